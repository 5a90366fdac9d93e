// Alipay OpenAPI v3 from Java with nothing but the JDK: signs and verifies exactly as Alipay's Java v3 SDK
// (com.alipay.v3.util.AlipayConfigUtil) does, with the same configuration a shop gives that SDK. Run by
// tests/gateways/alipay/test_v3_java.py as a single-file program: `java AlipayV3Query.java <args>`.
//
// The SDK itself is configured the same way:
//   AlipayConfig config = new AlipayConfig();
//   config.setServerUrl("http://127.0.0.1:8008");    // the one change from production
//   config.setAppId("2021000000000001");
//   config.setPrivateKey("<PKCS#8 base64>");         // `paysandbox keys`: app_private_key_pkcs8_base64
//   config.setAlipayPublicKey("<base64>");           // `paysandbox keys`: alipay_public_key_base64
//   Configuration.getDefaultApiClient().setAlipayConfig(config);
//   new AlipayTradeApi().query(new AlipayTradeQueryModel().outTradeNo("o1"));

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.UUID;

public class AlipayV3Query {
    public static void main(String[] args) throws Exception {
        String serverUrl = args[0], appId = args[1], privateKey = args[2], alipayPublicKey = args[3];
        String outTradeNo = args[4];
        String path = "/v3/alipay/trade/query";
        String body = "{\"out_trade_no\":\"" + outTradeNo + "\"}";

        // What AlipayConfigUtil.sign builds: authString, then authString\nMETHOD\nuri\nbody\n.
        String authString = "app_id=" + appId + ",nonce=" + UUID.randomUUID() + ",timestamp=" + System.currentTimeMillis();
        String content = authString + "\n" + "POST" + "\n" + path + "\n" + body + "\n";
        Signature signer = Signature.getInstance("SHA256WithRSA");
        signer.initSign(KeyFactory.getInstance("RSA")
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(privateKey))));
        signer.update(content.getBytes(StandardCharsets.UTF_8));
        String authorization = "ALIPAY-SHA256withRSA " + authString + ",sign="
                + Base64.getEncoder().encodeToString(signer.sign());

        HttpRequest request = HttpRequest.newBuilder(URI.create(serverUrl + path))
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .header("alipay-request-id", UUID.randomUUID().toString())
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

        // What AlipayConfigUtil.verify checks: timestamp\nnonce\nbody\n with the Alipay public key.
        String signed = response.headers().firstValue("alipay-timestamp").orElse("") + "\n"
                + response.headers().firstValue("alipay-nonce").orElse("") + "\n" + response.body() + "\n";
        Signature verifier = Signature.getInstance("SHA256WithRSA");
        verifier.initVerify(KeyFactory.getInstance("RSA")
                .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(alipayPublicKey))));
        verifier.update(signed.getBytes(StandardCharsets.UTF_8));
        String signature = response.headers().firstValue("alipay-signature").orElse("");
        boolean verified = !signature.isEmpty() && verifier.verify(Base64.getDecoder().decode(signature));

        System.out.println(response.statusCode());
        System.out.println(verified ? "verified" : "NOT verified");
        System.out.println(response.body());
    }
}
