/* The reports page (web/templates/web/reports.html): while a report in the archive list is queued or being
   made, fetch the list again every few seconds (/rapporter/status/, web/templates/web/reports_archive.html),
   replace only the rows that changed (focus elsewhere in the list stays put), and say in the page's persistent
   role="status" region when a report is done or has failed. The loop is web/poller.js's. Without this script the
   list has a link that updates it. */
(function () {
  "use strict";
  var announcer = document.getElementById("report-announcer");
  var poller = window.klimainnkjopPoller;
  if (!announcer || !poller) {
    return;
  }

  function pending(root) {
    return root.querySelector('[data-status="queued"], [data-status="running"]') !== null;
  }

  function swappable(root) {
    var found = {};
    root.querySelectorAll("[data-swap][id]").forEach(function (element) {
      found[element.id] = element;
    });
    return found;
  }

  function announce(messages) {
    if (!messages.length) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "ds-alert";
    alert.setAttribute("data-color", messages.some(function (m) { return m.failed; }) ? "danger" : "success");
    messages.forEach(function (m) {
      var paragraph = document.createElement("p");
      paragraph.className = "ds-paragraph";
      paragraph.textContent = m.text;
      alert.appendChild(paragraph);
    });
    announcer.replaceChildren(alert);
  }

  function update(current, fresh) {
    var before = swappable(current);
    var after = swappable(fresh);
    var messages = [];
    Object.keys(after).forEach(function (id) {
      var status = after[id].getAttribute("data-status");
      var old = before[id];
      if (old && old.getAttribute("data-status") !== status && (status === "done" || status === "failed")) {
        messages.push({text: after[id].getAttribute("data-message"), failed: status === "failed"});
      }
    });
    if (Object.keys(before).join() === Object.keys(after).join()) {
      Object.keys(after).forEach(function (id) {
        if (before[id].outerHTML !== after[id].outerHTML) {
          before[id].replaceWith(document.importNode(after[id], true));
        }
      });
    } else {  // a new report in the list (e.g. from a schedule): the whole list
      current.replaceWith(document.importNode(fresh, true));
    }
    announce(messages);
    return messages.length > 0;
  }

  // two seconds, growing to half a minute while nothing changes; the list is aria-busy while it is fetched
  poller.poll({id: "report-archive", delay: 2000, maxDelay: 30000, busy: true, pending: pending, update: update});
})();
