/* paysandbox: a stand-in for WeChat's WeixinJSBridge, so a shop's JSAPI pay code runs in a normal browser.
 *
 * Include it before the shop's own script:
 *   <script src="http://SANDBOX/cashier/wechatpay/jsbridge.js"></script>
 * WeixinJSBridge.invoke("getBrandWCPayRequest", params, callback) then lays the sandbox's pay sheet
 * (POST /cashier/wechatpay/jsapi with the params) over the page in an iframe; when the buyer taps Done the sheet
 * closes and callback gets {err_msg: "get_brand_wcpay_request:ok" | ":fail" | ":cancel"}, as inside WeChat.
 * With data-mode="page" on the script tag the whole window goes to the pay sheet instead (no callback; the
 * result page links back to the shop page). The "WeixinJSBridgeReady" event fires once this script has run.
 */
(function () {
  "use strict";
  var PREFIX = "get_brand_wcpay_request";
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="/cashier/wechatpay/jsbridge.js"]');
    script = all[all.length - 1] || null;
  }
  var jsapiUrl = new URL("jsapi", script ? script.src : location.href).href;
  var sandboxOrigin = new URL(jsapiUrl).origin;
  var mode = (script && script.getAttribute("data-mode")) || "overlay";
  var sheetOpen = false;

  function whenBody(fn) {
    if (document.body) fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function later(callback, result) {
    if (typeof callback === "function") setTimeout(function () { callback(result); }, 0);
  }

  function submit(target, params, returnTo) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = jsapiUrl;
    form.target = target;
    form.style.display = "none";
    var fields = Object.assign({}, params || {});
    if (returnTo) fields.return_to = returnTo;
    else fields.embedder = location.origin; // the sheet lets only this page's origin frame it
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name] == null ? "" : String(fields[name]);
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
    form.remove();
  }

  function openSheet(params, callback) {
    if (sheetOpen) {
      later(callback, {err_msg: PREFIX + ":fail", err_desc: "a payment is already in progress"});
      return;
    }
    sheetOpen = true;
    var name = "paysandbox-wechatpay-" + Date.now();
    var backdrop = document.createElement("div");
    backdrop.setAttribute("data-paysandbox", "wechatpay-sheet");
    backdrop.style.cssText = "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.55);" +
      "display:flex;align-items:flex-end;justify-content:center";
    var frame = document.createElement("iframe");
    frame.name = name;
    frame.title = "WeChat Pay (paysandbox)";
    frame.style.cssText = "width:min(440px,100%);height:min(760px,94%);border:0;border-radius:12px 12px 0 0;" +
      "background:#f5f6f8";
    backdrop.appendChild(frame);
    document.body.appendChild(backdrop);

    function onMessage(event) {
      var data = event.data || {};
      if (event.origin !== sandboxOrigin || event.source !== frame.contentWindow) return;
      if (data.source !== "paysandbox-wechatpay") return;
      window.removeEventListener("message", onMessage);
      backdrop.remove();
      sheetOpen = false;
      if (typeof callback === "function") callback({err_msg: data.err_msg});
    }
    window.addEventListener("message", onMessage);
    submit(name, params, "");
  }

  window.WeixinJSBridge = {
    paysandbox: true,
    invoke: function (api, params, callback) {
      if (api !== "getBrandWCPayRequest") {
        later(callback, {err_msg: api + ":fail", err_desc: "the paysandbox shim only implements getBrandWCPayRequest"});
        return;
      }
      whenBody(function () {
        if (mode === "page") submit("_self", params, location.href);
        else openSheet(params, callback);
      });
    },
    call: function () {},
    on: function () {},
  };
  document.dispatchEvent(new Event("WeixinJSBridgeReady"));
})();
