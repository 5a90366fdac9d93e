<?php
// WeChat Pay API v3 from PHP on Guzzle, against paysandbox: a Native (QR code) order, the buyer pays, the shop
// verifies and decrypts the notification and queries the order. It builds its Guzzle client the way the official
// wechatpay-php does (a signer and a verifier middleware, the request signed over its path and query) and takes the
// same Guzzle options a wechatpay-php user gives Builder::factory, so both of its routes run here:
//
//   php wechatpay_native.php                            # base_uri http://127.0.0.1:8008/ (WECHATPAY_BASE_URI)
//
//   paysandbox serve --proxy-port 8080                  # or keep WeChat Pay's own URL, through the sandbox's proxy:
//   WECHATPAY_BASE_URI=https://api.mch.weixin.qq.com/ HTTPS_PROXY=http://127.0.0.1:8080 \
//     PAYSANDBOX_CA="$(paysandbox ca --path)" php wechatpay_native.php
//
// Guzzle reads HTTPS_PROXY itself (its `proxy` option); PAYSANDBOX_CA becomes its `verify` option. Needs PHP 8 with
// the curl and openssl extensions and Guzzle 7 (Debian: php-cli php-curl php-guzzlehttp-guzzle). The TEST-ONLY keys
// are read from the repository's fixtures/ (PAYSANDBOX_FIXTURES names another folder); SANDBOX_URL (default
// http://127.0.0.1:8008) is where the buyer pays through the control API.
declare(strict_types=1);

require_once getenv('GUZZLE_AUTOLOAD') ?: 'GuzzleHttp/autoload.php';  // Composer: vendor/autoload.php

use GuzzleHttp\Client;
use GuzzleHttp\HandlerStack;
use GuzzleHttp\Middleware;
use Psr\Http\Message\RequestInterface;
use Psr\Http\Message\ResponseInterface;

// The sandbox's demo merchant and its WeChat Pay public key: fixtures/wechatpay/demo/merchant.json and
// fixtures/wechatpay/sandbox/platform.json (TEST-ONLY, public on purpose).
const MCHID = '1900000109';
const APPID = 'wxd930ea5d5a258f4f';
const MERCHANT_SERIAL = '444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D';
const APIV3_KEY = 'paysandboxTESTONLYapiv3key000001';
const PUBLIC_KEY_ID = 'PUB_KEY_ID_0119000000000000000000000000000001';

$fixtures = getenv('PAYSANDBOX_FIXTURES') ?: __DIR__ . '/../../fixtures';
$merchantKey = openssl_pkey_get_private(file_get_contents("$fixtures/wechatpay/demo/merchant_private_key.pem"));
$wechatpayKey = openssl_pkey_get_public(file_get_contents("$fixtures/wechatpay/sandbox/pub_key.pem"));

/** Wechatpay-Signature over "timestamp\nnonce\nbody\n", by the WeChat Pay public key named in Wechatpay-Serial. */
function verified(array $headers, string $body, $key): bool
{
    $header = static fn (string $name): string => $headers[strtolower($name)] ?? '';
    if ($header('Wechatpay-Serial') !== PUBLIC_KEY_ID) {
        return false;
    }
    $message = $header('Wechatpay-Timestamp') . "\n" . $header('Wechatpay-Nonce') . "\n" . $body . "\n";
    $signature = base64_decode($header('Wechatpay-Signature'), true);
    return $signature !== false && openssl_verify($message, $signature, $key, OPENSSL_ALGO_SHA256) === 1;
}

/** Lower-cased header names, first values: what a PSR-7 message or a raw HTTP request carries. */
function headerMap(array $headers): array
{
    $map = [];
    foreach ($headers as $name => $values) {
        $map[strtolower((string) $name)] = is_array($values) ? (string) reset($values) : (string) $values;
    }
    return $map;
}

// What wechatpay-php's ClientJsonTrait puts on its handler stack: a signer for requests, a verifier for answers.
$stack = HandlerStack::create();
$stack->unshift(Middleware::mapRequest(static function (RequestInterface $request) use ($merchantKey) {
    $nonce = bin2hex(random_bytes(16));
    $timestamp = (string) time();
    $message = implode("\n", [$request->getMethod(), $request->getRequestTarget(), $timestamp, $nonce,
        (string) $request->getBody()]) . "\n";
    openssl_sign($message, $signature, $merchantKey, OPENSSL_ALGO_SHA256);
    return $request->withHeader('Authorization', sprintf(
        'WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"',
        MCHID, $nonce, base64_encode($signature), $timestamp, MERCHANT_SERIAL
    ));
}), 'signer');
$stack->unshift(Middleware::mapResponse(static function (ResponseInterface $response) use ($wechatpayKey) {
    $body = (string) $response->getBody();
    $response->getBody()->rewind();
    if (!verified(headerMap($response->getHeaders()), $body, $wechatpayKey)) {
        throw new UnexpectedValueException("an answer without a valid WeChat Pay signature: $body");
    }
    return $response;
}), 'verifier');

$options = [
    'base_uri' => getenv('WECHATPAY_BASE_URI') ?: 'http://127.0.0.1:8008/',  // wechatpay-php's default: WeChat Pay's
    'handler' => $stack,
    'headers' => ['Accept' => 'application/json', 'Wechatpay-Serial' => PUBLIC_KEY_ID],  // verify with the public key
];
if (getenv('PAYSANDBOX_CA')) {
    $options['verify'] = getenv('PAYSANDBOX_CA');  // the sandbox CA as the only trust
}
$wechatpay = new Client($options);

// The shop's notification endpoint: one HTTP request accepted on a free local port, answered 204.
$server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error) or throw new RuntimeException($error);
$notifyUrl = 'http://' . stream_socket_get_name($server, false) . '/notify';
$outTradeNo = 'php-wx-' . (int) (microtime(true) * 1000);

$created = $wechatpay->post('v3/pay/transactions/native', ['json' => [
    'appid' => APPID, 'mchid' => MCHID, 'description' => 'Coffee', 'out_trade_no' => $outTradeNo,
    'notify_url' => $notifyUrl, 'amount' => ['total' => 990],
]]);
printf("native %d: code_url %s\n", $created->getStatusCode(), json_decode((string) $created->getBody(), true)['code_url']);

// The buyer pays: POST /_sandbox/orders/wechatpay/{mchid}/{out_trade_no}/pay on the sandbox's own port.
$sandbox = rtrim(getenv('SANDBOX_URL') ?: 'http://127.0.0.1:8008', '/');
$token = getenv('SANDBOX_TOKEN');
(new Client())->post("$sandbox/_sandbox/orders/wechatpay/" . MCHID . '/' . rawurlencode($outTradeNo) . '/pay', [
    'json' => ['outcome' => 'success'],
    'headers' => $token ? ['Authorization' => "Bearer $token"] : [],
]);

$connection = stream_socket_accept($server, 20) or throw new RuntimeException('no notification within 20 s');
$head = (string) stream_get_line($connection, 1 << 20, "\r\n\r\n");  // the request line and headers
$headers = [];
foreach (array_slice(explode("\r\n", $head), 1) as $line) {
    [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
    $headers[strtolower($name)] = $value;
}
$body = '';
while (strlen($body) < (int) ($headers['content-length'] ?? 0)) {
    $body .= fread($connection, (int) $headers['content-length'] - strlen($body));
}
fwrite($connection, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");  // any 2xx acknowledges
fclose($connection);
if (!verified($headers, $body, $wechatpayKey)) {
    throw new UnexpectedValueException('the notification signature does not verify');
}
$resource = json_decode($body, true)['resource'];
$sealed = base64_decode($resource['ciphertext']);
$transaction = json_decode((string) openssl_decrypt(substr($sealed, 0, -16), 'aes-256-gcm', APIV3_KEY,
    OPENSSL_RAW_DATA, $resource['nonce'], substr($sealed, -16), $resource['associated_data']), true);
printf("notification verified: %s %s %d\n", $transaction['out_trade_no'], $transaction['trade_state'],
    $transaction['amount']['total']);

$queried = $wechatpay->get('v3/pay/transactions/out-trade-no/' . rawurlencode($outTradeNo), ['query' => ['mchid' => MCHID]]);
printf("query %d: %s\n", $queried->getStatusCode(), json_decode((string) $queried->getBody(), true)['trade_state']);
