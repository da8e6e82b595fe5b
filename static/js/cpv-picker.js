/* CPV picker for the offering editor: a progressive enhancement of the "Kody CPV" text field.
   Without JavaScript the field and the link to the CPV search page do the same job.
   The box's data attributes carry the JSON address, the target field's id and the translated texts. */
(function () {
  "use strict";

  function codesOf(text) {
    return text.split(/[\s,;]+/).filter(Boolean);
  }

  function setUp(box) {
    var input = box.querySelector("input[type=search]");
    var list = box.querySelector("ul");
    var status = box.querySelector("[role=status]");
    var target = document.getElementById(box.dataset.target);
    if (!input || !list || !status || !target || !window.fetch) {
      return;
    }
    var timer = null;
    var last = "";

    function add(code) {
      var codes = codesOf(target.value);
      if (codes.indexOf(code) === -1) {
        codes.push(code);
      }
      target.value = codes.join(", ");
      status.textContent = box.dataset.added.replace("%s", code);
    }

    function show(items) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "cpv-add";
        button.textContent = box.dataset.add + " " + item.code + " – " + item.name;
        button.addEventListener("click", function () { add(item.code); });
        li.appendChild(button);
        list.appendChild(li);
      });
      status.textContent = items.length ? box.dataset.found.replace("%s", items.length) : box.dataset.none;
    }

    function search() {
      var q = input.value.trim();
      if (q === last) {
        return;
      }
      last = q;
      if (q.length < 2) {
        list.textContent = "";
        status.textContent = "";
        return;
      }
      fetch(box.dataset.source + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : []; })
        .then(function (items) { if (q === last) { show(items); } })
        .catch(function () { status.textContent = box.dataset.none; });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // search here instead of submitting the whole offering
        event.preventDefault();
        window.clearTimeout(timer);
        search();
      }
    });
    box.hidden = false;
  }

  document.querySelectorAll("[data-cpv-picker]").forEach(setUp);
})();
