/* The retraining page (web/templates/web/administration_training.html): while a retraining is queued or running,
   fetch its status part again (/administrasjon/klassifisering/status/, web/templates/web/_training_status.html)
   every few seconds and put it in place, and say in the page's role="status" region when it is done or failed.
   Without this script the part has a link that updates it. (The same loop as web/upload.js.) */
(function () {
  "use strict";
  var delay = 1500;  // grows to ten seconds while nothing changes
  var announcer = document.getElementById("training-announcer");
  if (!announcer || !window.fetch || !window.DOMParser) {
    return;
  }

  function part() {
    return document.getElementById("training-status");
  }

  function pending(element) {
    return element.getAttribute("data-pending") === "1";
  }

  function update() {
    var current = part();
    if (!current) {
      return;
    }
    fetch(current.getAttribute("data-status-url"), {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("training-status");
        if (!fresh) {
          return;
        }
        var changed = fresh.outerHTML !== current.outerHTML;
        if (changed) {
          current.replaceWith(document.importNode(fresh, true));
        }
        if (!pending(fresh)) {
          var heading = fresh.querySelector(".ds-alert p");
          announcer.textContent = heading ? heading.textContent : "";
        }
        delay = changed ? 1500 : Math.min(delay * 1.5, 10000);
      })
      .catch(function () { /* try again at the next turn */ })
      .then(function () {
        var element = part();
        if (element && pending(element)) {
          window.setTimeout(update, delay);
        }
      });
  }

  var element = part();
  if (element && pending(element)) {
    window.setTimeout(update, delay);
  }
})();
