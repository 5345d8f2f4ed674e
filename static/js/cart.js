/* Cart and checkout forms: progressive enhancement only; every form works without this file.
   - A form marked data-submit-once is sent once: its buttons are disabled on submit (a double
     click would otherwise post twice; the server replays a repeated checkout anyway). A button's
     data-busy-label replaces its text meanwhile.
   - Coming back to the page through the browser's history re-enables the buttons. */
(function () {
  "use strict";

  function buttonsOf(form) {
    return form.querySelectorAll('button[type="submit"], button:not([type])');
  }

  function reset(form) {
    form.removeAttribute("data-submitting");
    Array.prototype.forEach.call(buttonsOf(form), function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.hasAttribute("data-idle-label")) {
        button.textContent = button.getAttribute("data-idle-label");
        button.removeAttribute("data-idle-label");
      }
    });
  }

  function guard(form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-submitting")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitting", "");
      // Disabled only after this event: the browser has already taken the form's data.
      window.setTimeout(function () {
        Array.prototype.forEach.call(buttonsOf(form), function (button) {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
          var busy = button.getAttribute("data-busy-label");
          if (busy) {
            button.setAttribute("data-idle-label", button.textContent);
            button.textContent = busy;
          }
        });
      }, 0);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), guard);
  }

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), reset);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
