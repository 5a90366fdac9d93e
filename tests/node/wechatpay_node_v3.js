// wechatpay-node-v3, unmodified: its host is hard-coded (https://api.mch.weixin.qq.com), so the test runs this
// with `node -r global-agent/bootstrap`, GLOBAL_AGENT_HTTP_PROXY and NODE_EXTRA_CA_CERTS.
// JSON in on stdin: {appid, mchid, merchant_cert, private_key, out_trade_no, notify_url};
// JSON out: the SDK's answers to a native order and its query.
const WxPay = require('wechatpay-node-v3');

async function main(input) {
  const pay = new WxPay({
    appid: input.appid,
    mchid: input.mchid,
    publicKey: Buffer.from(input.merchant_cert),
    privateKey: Buffer.from(input.private_key),
  });
  const native = await pay.transactions_native({
    description: 'through the proxy',
    out_trade_no: input.out_trade_no,
    notify_url: input.notify_url,
    amount: { total: 1 },
  });
  const query = await pay.query({ out_trade_no: input.out_trade_no });
  return { native, query };
}

let text = '';
process.stdin.on('data', (chunk) => (text += chunk));
process.stdin.on('end', () =>
  main(JSON.parse(text)).then(
    (answer) => console.log(JSON.stringify(answer)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  ),
);
