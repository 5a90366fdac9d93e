// alipay-sdk (the official Node SDK), unmodified, on its default gateway https://openapi.alipay.com/gateway.do:
// its own `proxyAgent` option carries an undici ProxyAgent, and NODE_EXTRA_CA_CERTS trusts the sandbox CA.
// JSON in on stdin: {proxy, app_id, private_key, alipay_public_key, out_trade_no};
// JSON out: the verified answers of exec() for alipay.trade.precreate and alipay.trade.query.
const { AlipaySdk } = require('alipay-sdk');
const { ProxyAgent } = require('undici');

async function main(input) {
  const alipay = new AlipaySdk({
    appId: input.app_id,
    privateKey: input.private_key,
    alipayPublicKey: input.alipay_public_key,
    proxyAgent: new ProxyAgent(input.proxy),
  });
  const biz = { out_trade_no: input.out_trade_no, total_amount: '9.90', subject: 'through the proxy' };
  const precreate = await alipay.exec('alipay.trade.precreate', { bizContent: biz });
  const query = await alipay.exec('alipay.trade.query', { bizContent: { out_trade_no: input.out_trade_no } });
  return { precreate, query };
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
