// The payment page: Stripe's Payment Element (card, BLIK, Przelewy24) confirms the PaymentIntent and returns
// to the portal; where the loaded Stripe.js has no Payment Element, a card field's single-use token is posted
// to the portal, which confirms the PaymentIntent with it.
(function () {
  "use strict";
  var root = document.getElementById("payment");
  if (!root || typeof window.Stripe !== "function") { return; }
  var form = document.getElementById("payment-form");
  var errors = document.getElementById("payment-errors");
  var button = form.querySelector("button[type=submit]");
  // The payment is a direct charge on the PES's own account: Stripe.js must look for it there.
  var stripe = window.Stripe(root.dataset.key, { stripeAccount: root.dataset.account, locale: root.dataset.locale });

  function fail(message) {
    errors.textContent = message || root.dataset.failed;
    errors.hidden = false;
    errors.focus();
    button.disabled = false;
  }

  if (typeof stripe.confirmPayment === "function") {
    var elements = stripe.elements({ clientSecret: root.dataset.secret, locale: root.dataset.locale });
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      stripe.confirmPayment({ elements: elements, confirmParams: { return_url: root.dataset.return } })
        .then(function (result) { if (result.error) { fail(result.error.message); } });
    });
  } else {
    var card = stripe.elements().create("card");
    card.mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      stripe.createToken(card).then(function (result) {
        if (result.error || !result.token) { fail(result.error && result.error.message); return; }
        form.elements.token.value = result.token.id;
        form.submit();
      });
    });
  }
  form.hidden = false;
})();
