/* The retraining page (web/templates/web/administration_training.html): while a retraining is queued or running,
   fetch its status part again (/administrasjon/klassifisering/status/, web/templates/web/_training_status.html)
   every few seconds and put it in place, and say in the page's role="status" region when it is done or failed.
   The loop is web/poller.js's. Without this script the part has a link that updates it. */
(function () {
  "use strict";
  var announcer = document.getElementById("training-announcer");
  var poller = window.klimainnkjopPoller;
  if (!announcer || !poller) {
    return;
  }

  function pending(element) {
    return element.getAttribute("data-pending") === "1";
  }

  // 1.5 seconds, growing to ten while nothing changes
  poller.poll({id: "training-status", delay: 1500, maxDelay: 10000, pending: pending,
               update: poller.swapAndAnnounce(announcer, pending)});
})();
