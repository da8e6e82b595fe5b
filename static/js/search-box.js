/* Search as you type: turns each query box ([data-combobox]) into an ARIA 1.2 combobox with a list of
   suggested offering titles, fetched from the address in data-source as the person types. Without this
   script the box is a plain search field of a GET form, and the search works the same.

   Keys (the input keeps the focus; the highlighted option is named by aria-activedescendant):
   Down/Up open the list and move through it, Enter searches for the highlighted title (or for the typed
   text when none is highlighted), Escape closes the list or, when it is closed, empties the field.

   On the search page, a form marked data-autosubmit (the facets) is sent as soon as a checkbox changes;
   after the new page loads, the focus returns to that checkbox and the number of results is announced. */
(function () {
  "use strict";

  var DELAY = 200;       // ms of quiet typing before asking for suggestions
  var MIN_LENGTH = 2;    // characters typed before suggestions are asked for
  var FOCUS_KEY = "search-focus";

  function setUpCombobox(box, n) {
    var input = box.querySelector("input");
    if (!input || !input.form || !window.fetch) {
      return;
    }
    var listId = (input.id || "search-box-" + n) + "-list";
    var list = document.createElement("ul");
    var status = document.createElement("div");
    var titles = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var asked = "";

    list.id = listId;
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", box.dataset.listLabel);
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    box.appendChild(list);
    box.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    function isOpen() {
      return !list.hidden;
    }

    function open() {
      if (titles.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      highlight(-1);
    }

    function highlight(index) {
      var options = list.children;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        options[index].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      input.value = titles[index];
      close();
      if (input.form.requestSubmit) {
        input.form.requestSubmit();
      } else {
        input.form.submit();
      }
    }

    function show(found) {
      close();
      list.textContent = "";
      titles = found;
      found.forEach(function (title, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = title;
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the focus
        option.addEventListener("click", function () { choose(i); });
        list.appendChild(option);
      });
      open();
      status.textContent = found.length ? box.dataset.found.replace("%s", found.length) : box.dataset.none;
    }

    function clear() {
      if (pending) {
        pending.abort();
        pending = null;
      }
      asked = "";
      titles = [];
      list.textContent = "";
      status.textContent = "";
      close();
    }

    function ask() {
      var q = input.value;
      if (q.trim().length < MIN_LENGTH) {
        clear();
        return;
      }
      if (q === asked) {
        open();
        return;
      }
      asked = q;
      if (pending) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      fetch(box.dataset.source + "?q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      })
        .then(function (resp) { return resp.ok ? resp.json() : []; })
        .then(function (found) {
          if (input.value === q && document.activeElement === input) {
            show(Array.isArray(found) ? found.slice(0, 20) : []);
          }
        })
        .catch(function () { /* aborted or offline: the plain search still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY);
    });

    input.addEventListener("keydown", function (event) {
      var count = titles.length;
      if (event.key === "ArrowDown" || event.key === "Down") {
        event.preventDefault();
        if (!isOpen()) {
          if (count) {
            open();
            highlight(event.altKey ? -1 : 0);
          } else {
            window.clearTimeout(timer);
            ask();
          }
        } else {
          highlight((active + 1) % count);
        }
      } else if (event.key === "ArrowUp" || event.key === "Up") {
        if (count) {
          event.preventDefault();
          open();
          highlight(active <= 0 ? count - 1 : active - 1);
        }
      } else if (event.key === "Enter") {
        if (isOpen() && active >= 0) {
          event.preventDefault();
          choose(active);
        } else {
          close();
        }
      } else if (event.key === "Escape" || event.key === "Esc") {
        if (isOpen()) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          clear();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { close(); });
    input.addEventListener("focus", function () {
      if (input.value === asked) {
        open();
      }
    });
  }

  function rememberFocus(id) {
    try {
      window.sessionStorage.setItem(FOCUS_KEY, id);
    } catch (e) { /* storage off: the focus simply starts at the top */ }
  }

  function takeRememberedFocus() {
    try {
      var id = window.sessionStorage.getItem(FOCUS_KEY);
      window.sessionStorage.removeItem(FOCUS_KEY);
      return id;
    } catch (e) {
      return null;
    }
  }

  function setUpAutosubmit(form) {
    var hint = form.querySelector("[data-autosubmit-hint]");
    if (hint) {
      hint.hidden = false;
    }
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.type !== "checkbox") {
        return;
      }
      if (target.id) {
        rememberFocus(target.id);
      }
      form.submit();
    });
  }

  function restoreAfterAutosubmit() {
    var id = takeRememberedFocus();
    var count = document.querySelector("[data-search-count]");
    if (!id) {
      return;
    }
    // The ticked box may have gone (a value that no longer has results): then go to the results.
    var element = document.getElementById(id) || document.getElementById("results-heading");
    if (!element) {
      return;
    }
    element.focus();
    if (count) {  // text put into a live region after the page loaded is read out
      var text = count.textContent;
      count.textContent = "";
      window.setTimeout(function () { count.textContent = text; }, 500);
    }
  }

  document.querySelectorAll("[data-combobox]").forEach(setUpCombobox);
  document.querySelectorAll("form[data-autosubmit]").forEach(setUpAutosubmit);
  restoreAfterAutosubmit();
})();
