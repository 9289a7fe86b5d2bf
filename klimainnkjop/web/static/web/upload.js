/* The page of one upload (web/templates/web/upload_result.html): while the file waits or is being checked and
   imported, fetch its status part again (/org/<orgnr>/last-opp/<pk>/status/, web/templates/web/_upload_status.html)
   every few seconds and put it in place, and say in the page's role="status" region when it is done or failed.
   The loop is web/poller.js's. Without this script the part has a link that updates it. */
(function () {
  "use strict";
  var announcer = document.getElementById("upload-announcer");
  var poller = window.klimainnkjopPoller;
  if (!announcer || !poller) {
    return;
  }

  function pending(element) {
    var status = element.getAttribute("data-status");
    return status === "queued" || status === "running";
  }

  // 1.5 seconds, growing to ten while nothing changes
  poller.poll({id: "upload-status", delay: 1500, maxDelay: 10000, pending: pending,
               update: poller.swapAndAnnounce(announcer, pending)});
})();
