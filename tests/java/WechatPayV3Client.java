// A Java shop's WeChat Pay v3 calls with nothing but the JDK: java.net.http.HttpClient on the real host
// https://api.mch.weixin.qq.com, reached through -Dhttps.proxyHost/-Dhttps.proxyPort and trusting the sandbox CA
// through -Djavax.net.ssl.trustStore. Signs each request (WECHATPAY2-SHA256-RSA2048, SHA256withRSA with the
// merchant key) and verifies each answer's Wechatpay-Signature with the WeChat Pay public key.
// Arguments: mchid appid merchant-serial merchant-key.pem wechatpay-public-key.pem public-key-id out_trade_no
// notify_url. Prints one line per call: "<HTTP status> <signature verified: true|false> <body>".
import java.net.URI;
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
import java.util.UUID;

public class WechatPayV3Client {
    static final String HOST = "https://api.mch.weixin.qq.com";

    public static void main(String[] args) throws Exception {
        String mchid = args[0], appid = args[1], serial = args[2], publicKeyId = args[5], outTradeNo = args[6];
        PrivateKey merchantKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der(args[3])));
        PublicKey wechatKey = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der(args[4])));
        // No proxy code: unless .proxy(...) says otherwise, HttpClient asks ProxySelector.getDefault(), which reads
        // -Dhttps.proxyHost and -Dhttps.proxyPort.
        HttpClient client = HttpClient.newHttpClient();
        String order = "{\"appid\":\"" + appid + "\",\"mchid\":\"" + mchid + "\",\"description\":\"Java\","
                + "\"out_trade_no\":\"" + outTradeNo + "\",\"notify_url\":\"" + args[7] + "\","
                + "\"amount\":{\"total\":1}}";
        String[] calls = {"POST", "/v3/pay/transactions/native", order,
                          "GET", "/v3/pay/transactions/out-trade-no/" + outTradeNo + "?mchid=" + mchid, ""};
        for (int i = 0; i < calls.length; i += 3) {
            String method = calls[i], path = calls[i + 1], body = calls[i + 2];
            String nonce = UUID.randomUUID().toString().replace("-", "");
            String timestamp = Long.toString(System.currentTimeMillis() / 1000);
            String message = method + "\n" + path + "\n" + timestamp + "\n" + nonce + "\n" + body + "\n";
            String authorization = "WECHATPAY2-SHA256-RSA2048 mchid=\"" + mchid + "\",nonce_str=\"" + nonce
                    + "\",signature=\"" + sign(merchantKey, message) + "\",timestamp=\"" + timestamp
                    + "\",serial_no=\"" + serial + "\"";
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(HOST + path))
                    .header("Authorization", authorization)
                    .header("Accept", "application/json")
                    .header("Wechatpay-Serial", publicKeyId); // answers signed with the public key, please
            if (method.equals("POST")) {
                request.header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            }
            HttpResponse<String> answer = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            System.out.println(answer.statusCode() + " " + verified(answer, wechatKey, publicKeyId) + " " + answer.body());
        }
    }

    static boolean verified(HttpResponse<String> answer, PublicKey key, String publicKeyId) throws Exception {
        String serial = answer.headers().firstValue("Wechatpay-Serial").orElse("");
        String timestamp = answer.headers().firstValue("Wechatpay-Timestamp").orElse("");
        String nonce = answer.headers().firstValue("Wechatpay-Nonce").orElse("");
        String signature = answer.headers().firstValue("Wechatpay-Signature").orElse("");
        if (!serial.equals(publicKeyId)) return false;
        Signature verifier = Signature.getInstance("SHA256withRSA");
        verifier.initVerify(key);
        verifier.update((timestamp + "\n" + nonce + "\n" + answer.body() + "\n").getBytes(StandardCharsets.UTF_8));
        return verifier.verify(Base64.getDecoder().decode(signature));
    }

    static String sign(PrivateKey key, String message) throws Exception {
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(message.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(signer.sign());
    }

    static byte[] der(String pemPath) throws Exception {
        String pem = Files.readString(Path.of(pemPath));
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }
}
