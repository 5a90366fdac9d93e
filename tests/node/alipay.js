// The real `alipay-sdk` (npm, pinned in package-lock.json) driven by the Python tests, one JSON line per call.
//
// stdin:  {"id": 1, "config": {...AlipaySdk config...}, "op": "curl", "args": ["POST", "/v3/alipay/trade/query", {...}]}
// stdout: {"id": 1, "ok": true, "value": ...} or {"id": 1, "ok": false, "error": {name, message, code, ...}}
//
// ops: curl (OpenAPI v3), exec (gateway.do, deprecated in 4.x), checkNotifySignV2 (notification signature).
// The SDK is unmodified: a test only sets what a user would configure (endpoint, gateway, keys, certificates,
// proxyAgent). `proxy` in the config becomes `proxyAgent: new ProxyAgent(proxy)`.
'use strict';

const readline = require('node:readline');
const { AlipaySdk, ProxyAgent } = require('alipay-sdk');

const clients = new Map();

function client(config) {
  const key = JSON.stringify(config);
  if (!clients.has(key)) {
    const { proxy, ...options } = config;
    if (proxy) options.proxyAgent = new ProxyAgent(proxy);
    clients.set(key, new AlipaySdk(options));
  }
  return clients.get(key);
}

async function run(request) {
  const sdk = client(request.config);
  const args = request.args || [];
  switch (request.op) {
    case 'curl': {
      const { data, responseHttpStatus, traceId } = await sdk.curl(...args);
      return { data, status: responseHttpStatus, traceId };
    }
    case 'exec':
      return sdk.exec(...args);
    case 'checkNotifySignV2':
      return sdk.checkNotifySignV2(...args);
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

function describe(error) {
  return {
    name: error.name,
    message: error.message,
    code: error.code,
    responseHttpStatus: error.responseHttpStatus,
    links: error.links,
    responseDataRaw: error.responseDataRaw,
  };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: null, ok: false, error: describe(error) }) + '\n');
    return;
  }
  let reply;
  try {
    reply = { id: request.id, ok: true, value: await run(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: describe(error) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
