/* The one status poller of the pages that follow a background job: the upload page (web/upload.js), the
   retraining page (web/training.js) and the reports page (web/reports.js). While the element with the given id
   says something is pending, fetch its data-status-url every few seconds, find the element of the same id in the
   answer and hand both to `update`; the delay starts again when `update` reports a change and otherwise grows to
   `maxDelay`. A failed fetch is tried again at the next turn. Without scripts the pages have a link that updates
   the part. Loaded (defer) before the page's own script. */
(function () {
  "use strict";

  function poll(options) {
    if (!window.fetch || !window.DOMParser) {
      return;
    }
    var delay = options.delay;

    function element() {
      return document.getElementById(options.id);
    }

    function turn() {
      var current = element();
      if (!current) {
        return;
      }
      if (options.busy) {
        current.setAttribute("aria-busy", "true");
      }
      fetch(current.getAttribute("data-status-url"), {credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(options.id);
          if (!fresh) {
            return;
          }
          delay = options.update(current, fresh) ? options.delay : Math.min(delay * 1.5, options.maxDelay);
        })
        .catch(function () { /* try again at the next turn */ })
        .then(function () {
          var now = element();
          if (now) {
            if (options.busy) {
              now.removeAttribute("aria-busy");
            }
            if (options.pending(now)) {
              window.setTimeout(turn, delay);
            }
          }
        });
    }

    var first = element();
    if (first && options.pending(first)) {
      window.setTimeout(turn, delay);
    }
  }

  /* An `update` that puts the fresh part in place when it changed and, once nothing is pending, says the part's
     first alert paragraph in the page's role="status" region (the upload and retraining pages). */
  function swapAndAnnounce(announcer, pending) {
    return function (current, fresh) {
      var changed = fresh.outerHTML !== current.outerHTML;
      if (changed) {
        current.replaceWith(document.importNode(fresh, true));
      }
      if (!pending(fresh)) {
        var heading = fresh.querySelector(".ds-alert p");
        announcer.textContent = heading ? heading.textContent : "";
      }
      return changed;
    };
  }

  window.klimainnkjopPoller = {poll: poll, swapAndAnnounce: swapAndAnnounce};
})();
