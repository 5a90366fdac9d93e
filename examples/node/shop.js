// What both examples share: where the sandbox is, the TEST-ONLY fixture files, a notify_url that really listens, and
// the buyer paying through the sandbox's control API. Nothing here touches an SDK.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const SANDBOX_URL = (process.env.SANDBOX_URL || 'http://127.0.0.1:8008').replace(/\/$/, '');
const FIXTURES = process.env.PAYSANDBOX_FIXTURES || path.join(__dirname, '..', '..', 'fixtures');

/** A TEST-ONLY file of the repository's fixtures/ (public keys and demo merchants: never for real money). */
function fixture(name) {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** An order number no earlier run used: the sandbox keeps orders for as long as it runs. */
function orderNumber(prefix) {
  return `${prefix}-${Date.now()}`;
}

/**
 * The shop's notification endpoint: an HTTP server on a free local port. `next()` resolves with the next request
 * received ({headers, body}, the body as the raw text the signature covers); every request gets `reply`.
 */
function notificationEndpoint(reply) {
  const waiting = [];
  const received = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      response.writeHead(reply.status, { 'Content-Type': reply.contentType });
      response.end(reply.body);
      const notification = { headers: request.headers, body };
      if (waiting.length) waiting.shift()(notification);
      else received.push(notification);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, process.env.NOTIFY_HOST || '127.0.0.1', () => {
      const { address, port } = server.address();
      resolve({
        url: `http://${address}:${port}/notify`,
        next: (seconds = 20) =>
          new Promise((done, fail) => {
            if (received.length) return done(received.shift());
            const timer = setTimeout(() => fail(new Error(`no notification within ${seconds} s`)), seconds * 1000);
            waiting.push((notification) => {
              clearTimeout(timer);
              done(notification);
            });
          }),
        close: () => server.close(),
      });
    });
  });
}

/** The buyer pays: POST /_sandbox/orders/{gateway}/{merchant}/{order}/pay (with SANDBOX_TOKEN when the sandbox has one). */
async function buyerPays(gateway, merchantId, outTradeNo) {
  const headers = { 'Content-Type': 'application/json' };
  if (process.env.SANDBOX_TOKEN) headers.Authorization = `Bearer ${process.env.SANDBOX_TOKEN}`;
  const url = `${SANDBOX_URL}/_sandbox/orders/${gateway}/${merchantId}/${encodeURIComponent(outTradeNo)}/pay`;
  const answer = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ outcome: 'success' }) });
  if (!answer.ok) throw new Error(`the control API answered ${answer.status}: ${await answer.text()}`);
  return answer.json();
}

/** Runs `main`, prints its failure and exits 1 on error, so a shell or a test sees the outcome. */
function run(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

module.exports = { SANDBOX_URL, fixture, orderNumber, notificationEndpoint, buyerPays, run };
