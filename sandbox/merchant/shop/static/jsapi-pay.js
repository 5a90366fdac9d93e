/* The shop's in-WeChat pay button: WeixinJSBridge.invoke("getBrandWCPayRequest", params the shop signed on its
 * server, callback). Here the sandbox's bridge shim plays WeChat's part. */
(function () {
  "use strict";
  var button = document.getElementById("wechat-pay");
  var params = JSON.parse(document.getElementById("pay-params").textContent);
  button.addEventListener("click", function () {
    WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (res) {
      // ok is only what the buyer saw: the order page still waits for the notification (or the shop's query).
      document.getElementById("result").textContent = res.err_msg;
      location.href = button.getAttribute("data-go");
    });
  });
})();
