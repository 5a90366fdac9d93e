// Alipay with its official Node SDK (alipay-sdk 4.x, unmodified) against paysandbox: a precreate (QR code) order on
// OpenAPI v3, the buyer pays, the shop verifies the notification and queries the trade.
//
//   npm ci && node alipay.js          # the sandbox on http://127.0.0.1:8008 (SANDBOX_URL to change it)
//
// The one change from production is `endpoint` (OpenAPI v3, `curl()`) and `gateway` (gateway.do, `exec()`).
'use strict';

const { AlipaySdk } = require('alipay-sdk');
const { SANDBOX_URL, fixture, orderNumber, notificationEndpoint, buyerPays, run } = require('./shop');

const APP_ID = '2021000000000001'; // the sandbox's demo app (fixtures/alipay/demo/merchant.json)

const alipay = new AlipaySdk({
  appId: APP_ID,
  privateKey: fixture('alipay/demo/app_private_key.pem'), // PKCS#1 PEM; the SDK also takes PKCS#8 with keyType
  alipayPublicKey: fixture('alipay/sandbox/alipay_public_key.pem'), // verifies every answer and notification
  endpoint: SANDBOX_URL, // production: https://openapi.alipay.com
  gateway: `${SANDBOX_URL}/gateway.do`, // production: https://openapi.alipay.com/gateway.do
});

run(async () => {
  // Alipay's only ack is the exact body `success`; anything else is retried on Alipay's schedule.
  const notifications = await notificationEndpoint({ status: 200, contentType: 'text/plain', body: 'success' });
  const outTradeNo = orderNumber('node-alipay');

  const precreate = await alipay.curl('POST', '/v3/alipay/trade/precreate', {
    body: { out_trade_no: outTradeNo, total_amount: '9.90', subject: 'Coffee', notify_url: notifications.url },
  });
  console.log(`precreate ${precreate.responseHttpStatus}: qr_code ${precreate.data.qr_code}`);

  await buyerPays('alipay', APP_ID, outTradeNo); // or open qr_code in a browser and press Pay
  const notification = await notifications.next();
  const fields = Object.fromEntries(new URLSearchParams(notification.body));
  if (!alipay.checkNotifySignV2(fields)) throw new Error('the notification signature does not verify');
  console.log(`notification verified: ${fields.out_trade_no} ${fields.trade_status} ${fields.total_amount}`);

  const query = await alipay.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: outTradeNo } });
  console.log(`query ${query.responseHttpStatus}: ${query.data.trade_status}`); // curl() verified the answer
  notifications.close();
});
