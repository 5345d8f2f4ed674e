/* Comparison pages: progressive enhancement only; every page works without this file.
   - The print view's 打印 button needs script (window.print); without it the page tells the
     reader to use the browser's own print command. */
(function () {
  "use strict";

  function enablePrintButtons() {
    var buttons = document.querySelectorAll("[data-print]");
    if (!buttons.length || typeof window.print !== "function") {
      return;
    }
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".print-hint"), function (hint) {
      hint.hidden = true;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enablePrintButtons);
  } else {
    enablePrintButtons();
  }
})();
