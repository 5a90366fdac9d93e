/* Poll the shop (never the gateway from the browser) while a payment or a refund is open: once the order's status
 * or its refunds' statuses differ from what the page showed (data-shown), go to data-go. The shop turns an order
 * paid on a verified notification, or on its own query when the notification is late. */
(function () {
  "use strict";
  var script = document.currentScript;
  var shown = JSON.parse(script.getAttribute("data-shown"));
  var poll = script.getAttribute("data-poll");
  var go = script.getAttribute("data-go");

  function state(status, refundStatuses) {
    return JSON.stringify([status, refundStatuses]);
  }

  var before = state(shown.status, shown.refunds);
  setInterval(async function () {
    var order = await (await fetch(poll)).json();
    if (state(order.status, order.refunds.map(function (r) { return r.status; })) !== before) location.replace(go);
  }, 1000);
})();
