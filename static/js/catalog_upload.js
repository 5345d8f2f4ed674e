/* A batch's page while its job runs: poll the JSON status and update the progress bar; reload the
   page when the batch is finished, to show its results. Without this file the page refreshes
   itself (<noscript> meta refresh) and offers a 刷新 link. */
(function () {
  "use strict";

  var POLL_MS = 1500;

  function text(element, value) {
    if (element) {
      element.textContent = value;
    }
  }

  function start() {
    var section = document.querySelector("[data-status-url]");
    if (!section || typeof window.fetch !== "function") {
      return;
    }
    var url = section.getAttribute("data-status-url");
    var bar = section.querySelector("progress");
    var badge = section.querySelector("[data-field=status_badge] .badge");
    var summary = section.querySelector("[data-field=summary]");

    function poll() {
      window
        .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (status) {
          if (!status.active) {
            window.location.reload();
            return;
          }
          if (bar) {
            if (status.percent === null) {
              bar.removeAttribute("value");
            } else {
              bar.value = status.percent;
            }
          }
          if (badge) {
            text(badge, status.status_label);
            badge.className = "badge badge-batch-" + status.status;
          }
          text(summary, status.summary);
          window.setTimeout(poll, POLL_MS);
        })
        .catch(function () {
          window.setTimeout(poll, POLL_MS * 4);
        });
    }

    window.setTimeout(poll, POLL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
