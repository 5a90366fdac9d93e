/* paysandbox: the UnionPay card form shows the credit-card fields for a credit test card, and the SMS hint on
 * "Send code". */
(function () {
  "use strict";
  var form = document.querySelector(".card-form");
  if (!form) return;
  var credit = form.getAttribute("data-credit-cards").split(" ");
  var number = form.querySelector("[name=accNo]");
  var box = form.querySelector("fieldset.credit");
  number.addEventListener("input", function () {
    box.hidden = credit.indexOf(number.value.replace(/\s+/g, "")) < 0;
  });
  form.querySelector("[data-testid=send-code]").addEventListener("click", function () {
    form.querySelector("[data-testid=sms-hint]").hidden = false;
  });
})();
