/* The page of one upload (web/templates/web/upload_result.html): while the file waits or is being checked and
   imported, fetch its status part again (/org/<orgnr>/last-opp/<pk>/status/, web/templates/web/_upload_status.html)
   every few seconds and put it in place, and say in the page's role="status" region when it is done or failed.
   Without this script the part has a link that updates it. */
(function () {
  "use strict";
  var delay = 1500;  // grows to ten seconds while nothing changes
  var announcer = document.getElementById("upload-announcer");
  if (!announcer || !window.fetch || !window.DOMParser) {
    return;
  }

  function part() {
    return document.getElementById("upload-status");
  }

  function pending(element) {
    var status = element.getAttribute("data-status");
    return status === "queued" || status === "running";
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
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("upload-status");
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
