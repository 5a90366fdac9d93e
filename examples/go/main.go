// WeChat Pay API v3 from Go with nothing but the standard library, against paysandbox: a Native (QR code) order, the
// buyer pays, the shop verifies and decrypts the notification and queries the order. It does on the wire what
// wechatpay-go does (sign each request with the merchant key, verify each answer and notification with the WeChat
// Pay public key, AEAD_AES_256_GCM under the APIv3 key), on the real host https://api.mch.weixin.qq.com, reached
// through the sandbox's HTTPS proxy exactly as wechatpay-go's client is: http.DefaultTransport reads HTTPS_PROXY,
// and SSL_CERT_FILE makes the sandbox CA the process's only trust.
//
//	paysandbox serve --proxy-port 8080
//	cd examples/go
//	HTTPS_PROXY=http://127.0.0.1:8080 SSL_CERT_FILE="$(paysandbox ca --path)" go run .
//
// The TEST-ONLY keys are read from the repository's fixtures/ (PAYSANDBOX_FIXTURES names another folder).
// SANDBOX_URL (default http://127.0.0.1:8008) is where the buyer pays through the control API: a loopback address,
// which http.ProxyFromEnvironment never sends to the proxy.
package main

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const host = "https://api.mch.weixin.qq.com" // a constant, as in wechatpay-go (consts.WechatPayAPIServer)

// The sandbox's demo merchant and its WeChat Pay public key: fixtures/wechatpay/demo/merchant.json and
// fixtures/wechatpay/sandbox/platform.json (TEST-ONLY, public on purpose).
const (
	mchid          = "1900000109"
	appid          = "wxd930ea5d5a258f4f"
	merchantSerial = "444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D"
	apiv3Key       = "paysandboxTESTONLYapiv3key000001"
	publicKeyID    = "PUB_KEY_ID_0119000000000000000000000000000001"
)

type shop struct {
	merchantKey  *rsa.PrivateKey
	wechatpayKey *rsa.PublicKey
}

type notification struct {
	header http.Header
	body   []byte
}

func main() {
	log.SetFlags(0)
	fixtures := env("PAYSANDBOX_FIXTURES", filepath.Join("..", "..", "fixtures"))
	s := shop{
		merchantKey:  pemKey(filepath.Join(fixtures, "wechatpay/demo/merchant_private_key.pem")).(*rsa.PrivateKey),
		wechatpayKey: pemKey(filepath.Join(fixtures, "wechatpay/sandbox/pub_key.pem")).(*rsa.PublicKey),
	}

	notifications := make(chan notification, 8)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent) // any 2xx acknowledges
		notifications <- notification{r.Header, body}
	}))
	outTradeNo := fmt.Sprintf("go-wx-%d", time.Now().UnixMilli())

	order, _ := json.Marshal(map[string]any{
		"appid": appid, "mchid": mchid, "description": "Coffee", "out_trade_no": outTradeNo,
		"notify_url": "http://" + listener.Addr().String() + "/notify", "amount": map[string]int{"total": 990},
	})
	var created struct {
		CodeURL string `json:"code_url"`
	}
	status := s.call("POST", "/v3/pay/transactions/native", order, &created)
	fmt.Printf("native %d: code_url %s\n", status, created.CodeURL)

	buyerPays(outTradeNo)
	var n notification
	select {
	case n = <-notifications:
	case <-time.After(20 * time.Second):
		log.Fatal("no notification within 20 s")
	}
	if !s.verified(n.header, n.body) {
		log.Fatal("the notification signature does not verify")
	}
	var event struct {
		Resource struct {
			Ciphertext     string `json:"ciphertext"`
			AssociatedData string `json:"associated_data"`
			Nonce          string `json:"nonce"`
		} `json:"resource"`
	}
	check(json.Unmarshal(n.body, &event))
	var transaction struct {
		OutTradeNo string `json:"out_trade_no"`
		TradeState string `json:"trade_state"`
		Amount     struct {
			Total int `json:"total"`
		} `json:"amount"`
	}
	check(json.Unmarshal(decrypt(event.Resource.Ciphertext, event.Resource.AssociatedData, event.Resource.Nonce), &transaction))
	fmt.Printf("notification verified: %s %s %d\n", transaction.OutTradeNo, transaction.TradeState, transaction.Amount.Total)

	var queried struct {
		TradeState string `json:"trade_state"`
	}
	status = s.call("GET", "/v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo)+"?mchid="+mchid, nil, &queried)
	fmt.Printf("query %d: %s\n", status, queried.TradeState)
}

// call sends one signed API v3 request and decodes its answer, which must carry a valid WeChat Pay signature.
func (s shop) call(method, path string, body []byte, answer any) int {
	nonce := make([]byte, 16)
	_, err := rand.Read(nonce)
	check(err)
	nonceStr := strings.ToUpper(hex.EncodeToString(nonce))
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	message := method + "\n" + path + "\n" + timestamp + "\n" + nonceStr + "\n" + string(body) + "\n"
	digest := sha256.Sum256([]byte(message))
	signature, err := rsa.SignPKCS1v15(rand.Reader, s.merchantKey, crypto.SHA256, digest[:])
	check(err)

	request, err := http.NewRequest(method, host+path, bytes.NewReader(body))
	check(err)
	request.Header.Set("Authorization", fmt.Sprintf(
		`WECHATPAY2-SHA256-RSA2048 mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		mchid, nonceStr, base64.StdEncoding.EncodeToString(signature), timestamp, merchantSerial))
	request.Header.Set("Accept", "application/json")
	request.Header.Set("Wechatpay-Serial", publicKeyID) // this merchant verifies with the public key
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := http.DefaultClient.Do(request)
	check(err)
	defer response.Body.Close()
	raw, err := io.ReadAll(response.Body)
	check(err)
	if response.StatusCode/100 != 2 || !s.verified(response.Header, raw) {
		log.Fatalf("%s %s answered %d without a valid signature: %s", method, path, response.StatusCode, raw)
	}
	check(json.Unmarshal(raw, answer))
	return response.StatusCode
}

// verified checks Wechatpay-Signature over "timestamp\nnonce\nbody\n" with the WeChat Pay public key.
func (s shop) verified(header http.Header, body []byte) bool {
	if header.Get("Wechatpay-Serial") != publicKeyID {
		return false
	}
	signature, err := base64.StdEncoding.DecodeString(header.Get("Wechatpay-Signature"))
	if err != nil || len(signature) == 0 {
		return false
	}
	message := header.Get("Wechatpay-Timestamp") + "\n" + header.Get("Wechatpay-Nonce") + "\n" + string(body) + "\n"
	digest := sha256.Sum256([]byte(message))
	return rsa.VerifyPKCS1v15(s.wechatpayKey, crypto.SHA256, digest[:], signature) == nil
}

// buyerPays: POST /_sandbox/orders/wechatpay/{mchid}/{out_trade_no}/pay on the sandbox's own port.
func buyerPays(outTradeNo string) {
	endpoint := env("SANDBOX_URL", "http://127.0.0.1:8008") + "/_sandbox/orders/wechatpay/" + mchid + "/" +
		url.PathEscape(outTradeNo) + "/pay"
	request, err := http.NewRequest("POST", endpoint, strings.NewReader(`{"outcome":"success"}`))
	check(err)
	request.Header.Set("Content-Type", "application/json")
	if token := os.Getenv("SANDBOX_TOKEN"); token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	response, err := http.DefaultClient.Do(request)
	check(err)
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(response.Body)
		log.Fatalf("control API: %d %s", response.StatusCode, raw)
	}
}

// decrypt opens a notification's resource: AEAD_AES_256_GCM under the APIv3 key.
func decrypt(ciphertext, associatedData, nonce string) []byte {
	sealed, err := base64.StdEncoding.DecodeString(ciphertext)
	check(err)
	block, err := aes.NewCipher([]byte(apiv3Key))
	check(err)
	gcm, err := cipher.NewGCM(block)
	check(err)
	plain, err := gcm.Open(nil, []byte(nonce), sealed, []byte(associatedData))
	check(err)
	return plain
}

// pemKey reads a PKCS#8 private key or a PKIX public key.
func pemKey(path string) any {
	data, err := os.ReadFile(path)
	check(err)
	block, _ := pem.Decode(data)
	if block == nil {
		log.Fatalf("%s holds no PEM block", path)
	}
	if block.Type == "PRIVATE KEY" {
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		check(err)
		return key
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	check(err)
	return key
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
