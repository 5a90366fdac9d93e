// WeChat Pay API v3 with wechatpay-node-v3 (unmodified) against paysandbox: a Native (QR code) order, the buyer pays,
// the shop verifies and decrypts the notification and queries the order.
//
// The SDK's host is a constant (https://api.mch.weixin.qq.com), so it reaches the sandbox through the sandbox's HTTPS
// proxy (`paysandbox serve --proxy-port 8080`), trusting the sandbox CA, with global-agent loaded before it:
//
//   npm ci
//   export NODE_EXTRA_CA_CERTS="$(paysandbox ca --path)" GLOBAL_AGENT_HTTP_PROXY=http://127.0.0.1:8080
//   node -r global-agent/bootstrap wechatpay.js
'use strict';

const WxPay = require('wechatpay-node-v3');
const { fixture, orderNumber, notificationEndpoint, buyerPays, run } = require('./shop');

const merchant = JSON.parse(fixture('wechatpay/demo/merchant.json')); // the sandbox's demo merchant, TEST-ONLY

const pay = new WxPay({
  appid: merchant.appid,
  mchid: merchant.merchant_id,
  publicKey: Buffer.from(fixture('wechatpay/demo/merchant_cert.pem')), // the merchant certificate: its serial_no
  privateKey: Buffer.from(fixture('wechatpay/demo/merchant_private_key.pem')),
  key: merchant.apiv3_key, // APIv3 key: decrypts notifications and the platform certificates
});

run(async () => {
  // Any 2xx acknowledges a WeChat Pay notification.
  const notifications = await notificationEndpoint({ status: 204, contentType: 'text/plain', body: '' });
  const outTradeNo = orderNumber('node-wx');

  const native = await pay.transactions_native({
    description: 'Coffee',
    out_trade_no: outTradeNo,
    notify_url: notifications.url,
    amount: { total: 990 },
  });
  if (native.status !== 200) throw new Error(`native order: ${JSON.stringify(native)}`);
  console.log(`native ${native.status}: code_url ${native.data.code_url}`);

  await buyerPays('wechatpay', merchant.merchant_id, outTradeNo); // or scan the code on the sandbox's page
  const { headers, body } = await notifications.next();
  // verifySign downloads the platform certificates (GET /v3/certificates, through the proxy) the first time.
  const verified = await pay.verifySign({
    timestamp: headers['wechatpay-timestamp'],
    nonce: headers['wechatpay-nonce'],
    serial: headers['wechatpay-serial'],
    signature: headers['wechatpay-signature'],
    body, // the raw text: the signature covers it byte for byte
  });
  if (!verified) throw new Error('the notification signature does not verify');
  const { resource } = JSON.parse(body);
  const transaction = pay.decipher_gcm(resource.ciphertext, resource.associated_data, resource.nonce);
  console.log(`notification verified: ${transaction.out_trade_no} ${transaction.trade_state} ${transaction.amount.total}`);

  const query = await pay.query({ out_trade_no: outTradeNo });
  console.log(`query ${query.status}: ${query.data.trade_state}`);
  notifications.close();
});
