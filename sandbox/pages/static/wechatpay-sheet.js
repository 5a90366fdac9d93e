/* paysandbox: inside the pay sheet that jsbridge.js opened in an iframe, Done closes it and answers the shop's
 * callback with the button's data-err-msg. Outside a sheet (a whole window) the button stays hidden. */
(function () {
  "use strict";
  var done = document.querySelector('[data-testid="done"]');
  if (!done || window.parent === window) return;
  done.hidden = false;
  var back = document.querySelector('[data-testid="back"]');
  if (back) back.hidden = true;
  done.addEventListener("click", function () {
    window.parent.postMessage({source: "paysandbox-wechatpay", err_msg: done.getAttribute("data-err-msg")}, "*");
  });
})();
