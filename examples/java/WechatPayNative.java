// WeChat Pay API v3 from Java with nothing but the JDK, against paysandbox: a Native (QR code) order, the buyer pays,
// the shop verifies and decrypts the notification and queries the order. It does on the wire what wechatpay-java
// does (sign each request with the merchant key, verify each answer and notification with the WeChat Pay public
// key, AEAD_AES_256_GCM under the APIv3 key), on the real host https://api.mch.weixin.qq.com, which the JVM reaches
// through the sandbox's HTTPS proxy: the official SDKs' jars are not needed to see the route work.
//
//   paysandbox serve --proxy-port 8080
//   curl -s http://127.0.0.1:8008/_sandbox/ca.pem -o ca.pem
//   keytool -importcert -noprompt -alias paysandbox -file ca.pem -keystore paysandbox.p12 -storetype PKCS12 -storepass changeit
//   java -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=8080 \
//        -Djavax.net.ssl.trustStore=paysandbox.p12 -Djavax.net.ssl.trustStorePassword=changeit \
//        examples/java/WechatPayNative.java
//
// Run from the repository's root (the TEST-ONLY keys are read from fixtures/; PAYSANDBOX_FIXTURES names another
// folder). SANDBOX_URL (default http://127.0.0.1:8008) is where the buyer pays through the control API.
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public class WechatPayNative {
    static final String HOST = "https://api.mch.weixin.qq.com"; // a constant, as in the official SDKs
    static final Path FIXTURES = Path.of(env("PAYSANDBOX_FIXTURES", "fixtures"));
    static final String SANDBOX_URL = env("SANDBOX_URL", "http://127.0.0.1:8008");

    // The sandbox's demo merchant and its WeChat Pay public key: fixtures/wechatpay/demo/merchant.json and
    // fixtures/wechatpay/sandbox/platform.json (TEST-ONLY, public on purpose).
    static final String MCHID = "1900000109";
    static final String APPID = "wxd930ea5d5a258f4f";
    static final String MERCHANT_SERIAL = "444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D";
    static final String APIV3_KEY = "paysandboxTESTONLYapiv3key000001";
    static final String PUBLIC_KEY_ID = "PUB_KEY_ID_0119000000000000000000000000000001";

    // No proxy code: unless told otherwise, HttpClient asks ProxySelector.getDefault(), which reads
    // -Dhttps.proxyHost/-Dhttps.proxyPort for https URLs only, so the control API on plain http stays direct.
    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        PrivateKey merchantKey = KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(der("wechatpay/demo/merchant_private_key.pem")));
        PublicKey wechatpayKey = KeyFactory.getInstance("RSA")
                .generatePublic(new X509EncodedKeySpec(der("wechatpay/sandbox/pub_key.pem")));

        BlockingQueue<Map.Entry<com.sun.net.httpserver.Headers, String>> notifications = new ArrayBlockingQueue<>(8);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/notify", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(204, -1); // any 2xx acknowledges
            exchange.close();
            notifications.add(Map.entry(exchange.getRequestHeaders(), body));
        });
        server.start();
        String notifyUrl = "http://127.0.0.1:" + server.getAddress().getPort() + "/notify";
        String outTradeNo = "java-wx-" + System.currentTimeMillis();

        String order = "{\"appid\":\"" + APPID + "\",\"mchid\":\"" + MCHID + "\",\"description\":\"Coffee\","
                + "\"out_trade_no\":\"" + outTradeNo + "\",\"notify_url\":\"" + notifyUrl + "\","
                + "\"amount\":{\"total\":990}}";
        HttpResponse<String> created = call("POST", "/v3/pay/transactions/native", order, merchantKey, wechatpayKey);
        System.out.println("native " + created.statusCode() + ": code_url " + field(created.body(), "code_url"));

        buyerPays(outTradeNo);
        var notification = notifications.poll(20, TimeUnit.SECONDS);
        if (notification == null) throw new IllegalStateException("no notification within 20 s");
        var headers = notification.getKey();
        String body = notification.getValue();
        if (!verified(wechatpayKey, headers.getFirst("Wechatpay-Serial"), headers.getFirst("Wechatpay-Timestamp"),
                headers.getFirst("Wechatpay-Nonce"), body, headers.getFirst("Wechatpay-Signature"))) {
            throw new IllegalStateException("the notification signature does not verify");
        }
        String transaction = decrypt(field(body, "ciphertext"), field(body, "associated_data"), field(body, "nonce"));
        System.out.println("notification verified: " + field(transaction, "out_trade_no") + " "
                + field(transaction, "trade_state") + " " + number(transaction, "total"));

        String path = "/v3/pay/transactions/out-trade-no/" + outTradeNo + "?mchid=" + MCHID;
        HttpResponse<String> queried = call("GET", path, "", merchantKey, wechatpayKey);
        System.out.println("query " + queried.statusCode() + ": " + field(queried.body(), "trade_state"));
        server.stop(0);
    }

    /** One signed API v3 call whose answer must carry a valid WeChat Pay signature. */
    static HttpResponse<String> call(String method, String path, String body, PrivateKey merchantKey,
            PublicKey wechatpayKey) throws Exception {
        String nonce = UUID.randomUUID().toString().replace("-", "");
        String timestamp = Long.toString(System.currentTimeMillis() / 1000);
        String message = method + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" + body + "\n";
        String authorization = "WECHATPAY2-SHA256-RSA2048 mchid=\"" + MCHID + "\",nonce_str=\"" + nonce
                + "\",signature=\"" + sign(merchantKey, message) + "\",timestamp=\"" + timestamp
                + "\",serial_no=\"" + MERCHANT_SERIAL + "\"";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(HOST + path))
                .header("Authorization", authorization)
                .header("Accept", "application/json")
                .header("Wechatpay-Serial", PUBLIC_KEY_ID); // this merchant verifies with the public key
        if (method.equals("POST")) {
            request.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        HttpResponse<String> answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        var h = answer.headers();
        if (answer.statusCode() / 100 != 2 || !verified(wechatpayKey, h.firstValue("Wechatpay-Serial").orElse(""),
                h.firstValue("Wechatpay-Timestamp").orElse(""), h.firstValue("Wechatpay-Nonce").orElse(""),
                answer.body(), h.firstValue("Wechatpay-Signature").orElse(""))) {
            throw new IllegalStateException(method + " " + path + " answered " + answer.statusCode()
                    + " without a valid signature: " + answer.body());
        }
        return answer;
    }

    /** The buyer pays: POST /_sandbox/orders/wechatpay/{mchid}/{out_trade_no}/pay on the sandbox's own port. */
    static void buyerPays(String outTradeNo) throws Exception {
        String url = SANDBOX_URL + "/_sandbox/orders/wechatpay/" + MCHID + "/"
                + URLEncoder.encode(outTradeNo, StandardCharsets.UTF_8) + "/pay";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"outcome\":\"success\"}"));
        String token = System.getenv("SANDBOX_TOKEN");
        if (token != null && !token.isEmpty()) request.header("Authorization", "Bearer " + token);
        HttpResponse<String> answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) throw new IllegalStateException("control API: " + answer.body());
    }

    static boolean verified(PublicKey key, String serial, String timestamp, String nonce, String body,
            String signature) throws Exception {
        if (!PUBLIC_KEY_ID.equals(serial) || signature == null || signature.isEmpty()) return false;
        Signature verifier = Signature.getInstance("SHA256withRSA");
        verifier.initVerify(key);
        verifier.update((timestamp + "\n" + nonce + "\n" + body + "\n").getBytes(StandardCharsets.UTF_8));
        return verifier.verify(Base64.getDecoder().decode(signature));
    }

    /** AEAD_AES_256_GCM under the APIv3 key: the notification's `resource`. */
    static String decrypt(String ciphertext, String associatedData, String nonce) throws Exception {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(APIV3_KEY.getBytes(StandardCharsets.UTF_8), "AES"),
                new GCMParameterSpec(128, nonce.getBytes(StandardCharsets.UTF_8)));
        cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
        return new String(cipher.doFinal(Base64.getDecoder().decode(ciphertext)), StandardCharsets.UTF_8);
    }

    static String sign(PrivateKey key, String message) throws Exception {
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(message.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(signer.sign());
    }

    static byte[] der(String fixture) throws Exception {
        String pem = Files.readString(FIXTURES.resolve(fixture));
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    // The JDK has no JSON parser; a shop uses its own (Jackson, Gson). These read one flat field.
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(1).replace("\\/", "/");
    }

    static String number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no " + name + " in " + json);
        return m.group(1);
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
