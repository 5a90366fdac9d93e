"""The reference UnionPay client, offline: it verifies what the sandbox signs and refuses what it must not trust.

Answers come from the sandbox's own UnionPayKeys.signed + codec.render; the client's requests must verify with the
sandbox's codec.verify and the demo merchant certificate. Throwaway certificates (self-signed, expired, wrong CN
role) are made here with `cryptography`; they never leave the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.core import crypto
from sandbox.gateways.unionpay import codec
from sandbox.gateways.unionpay.keys import UnionPayKeys
from sandbox.merchant.unionpay import (
    UnionPayClient,
    UnionPayClientError,
    UnionPaySignatureError,
    fen,
    outcome,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
UNIONPAY = FIXTURES / "unionpay"
MERCHANT = json.loads((UNIONPAY / "demo" / "merchant.json").read_text())
MER_ID = MERCHANT["merchant_id"]
MERCHANT_CERT = (UNIONPAY / "demo" / "merchant_cert.pem").read_text()
ROOT_PEM = (UNIONPAY / "sandbox" / "root.pem").read_text()
MIDDLE_PEM = (UNIONPAY / "sandbox" / "middle.pem").read_text()
TEST_CN = "041@Z2024-01-01@00040000:SIGN@00000001"
PRODUCTION_CN = "041@Z2024-01-01@中国银联股份有限公司@00000001"


# -- helpers ------------------------------------------------------------------------------------------------------


class FakeReply:
    def __init__(self, body: str, status_code: int = 200) -> None:
        self.content = body.encode("utf-8")
        self.text = body
        self.status_code = status_code


class FakeSession:
    """Records each POST and answers with what `answer(request_fields)` returns (a body, or (body, status))."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict, dict]] = []
        self.trust_env = True

    def post(self, url, data, headers, timeout):
        self.calls.append((url, dict(data), dict(headers)))
        reply = self.answer(dict(data))
        return FakeReply(*reply) if isinstance(reply, tuple) else FakeReply(reply)


def make_client(**options) -> UnionPayClient:
    options = {"root_cert": ROOT_PEM, "middle_cert": MIDDLE_PEM, "base_url": "http://127.0.0.1:9", **options}
    return UnionPayClient.from_pkcs12(MER_ID, UNIONPAY / "demo" / "acp_test_sign.pfx", "000000", **options)


def answer_fields(**overrides: str) -> dict[str, str]:
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000000",
        "txnType": "00",
        "txnSubType": "00",
        "merId": MER_ID,
        "orderId": "ORDER20240520001",
        "txnTime": "20240520131415",
        "respCode": "00",
        "respMsg": "成功[0000000]",
        "origRespCode": "00",
        "queryId": "202405201314150000001",
        "reqReserved": "{cart=42&note=a+b/c=}",
        **overrides,
    }


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "throwaway"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _issue(subject, key, issuer, issuer_key, *, ca: bool, not_before=None, not_after=None) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def throwaway_keys() -> dict[str, rsa.RSAPrivateKey]:
    return {role: rsa.generate_private_key(public_exponent=65537, key_size=2048) for role in ("root", "middle", "leaf")}


@pytest.fixture(scope="module")
def throwaway_chain(throwaway_keys):
    """Build a root -> middle -> leaf chain: answers (root_pem, middle_pem, keys signing as the leaf)."""

    def build(leaf_cn: str = TEST_CN, **validity) -> tuple[str, str, UnionPayKeys]:
        k = throwaway_keys
        root = _issue("Throwaway Root", k["root"], "Throwaway Root", k["root"], ca=True)
        middle = _issue("Throwaway OCA", k["middle"], "Throwaway Root", k["root"], ca=True)
        leaf = _issue(leaf_cn, k["leaf"], "Throwaway OCA", k["middle"], ca=False, **validity)
        key_pem = (
            k["leaf"]
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
        return _pem(root), _pem(middle), UnionPayKeys(_pem(root), _pem(middle), _pem(leaf), key_pem)

    return build


@pytest.fixture(scope="module")
def keys() -> UnionPayKeys:
    return UnionPayKeys.load(str(FIXTURES))


def refuse(client: UnionPayClient, fields: dict[str, str], match: str) -> UnionPaySignatureError:
    with pytest.raises(UnionPaySignatureError, match=match) as caught:
        client.verify_answer(codec.render(fields))
    return caught.value


# -- credentials and signing ----------------------------------------------------------------------------------------


def test_loads_the_pfx_with_its_password_and_reads_the_decimal_cert_id():
    client = make_client()
    assert client.cert_id == MERCHANT["cert_id"] == "69629715588"
    with pytest.raises(UnionPayClientError, match="PKCS#12"):
        UnionPayClient.from_pkcs12(
            MER_ID, UNIONPAY / "demo" / "acp_test_sign.pfx", "111111", root_cert=ROOT_PEM, middle_cert=MIDDLE_PEM
        )


def test_pem_and_pfx_credentials_sign_identically():
    from_pem = UnionPayClient.from_pem(
        MER_ID,
        (UNIONPAY / "demo" / "merchant_private_key.pem").read_text(),
        MERCHANT_CERT,
        root_cert=ROOT_PEM,
        middle_cert=MIDDLE_PEM,
    )
    fields = {"merId": MER_ID, "orderId": "ORDER20240520001", "txnTime": "20240520131415", "txnType": "00"}
    assert from_pem.cert_id == make_client().cert_id
    assert from_pem.sign(fields) == make_client().sign(fields)


@pytest.mark.parametrize("version", ["5.1.0", "5.0.0"])
def test_requests_verify_with_the_sandbox_codec_and_the_merchant_cert(version):
    client = make_client(version=version)
    signed = client.sign(
        {
            "merId": MER_ID,
            "orderId": "ORDER20240520001",
            "orderDesc": "  测试 商品  ",
            "riskRateInfo": "{commodityName=测试&x=1}",
            "reqReserved": "   ",
            "frontUrl": None,
            "version": "9.9.9",
            "signature": "stale",
        }
    )
    assert signed["version"] == version and signed["encoding"] == "UTF-8" and signed["signMethod"] == "01"
    assert signed["certId"] == MERCHANT["cert_id"]
    assert signed["orderDesc"] == "测试 商品"  # trimmed, like the Java SDK's filterBlank
    assert "reqReserved" not in signed and "frontUrl" not in signed
    merchant_key = crypto.load_public_key(MERCHANT_CERT)
    assert codec.verify(signed, merchant_key, version)
    assert not codec.verify({**signed, "orderId": "ORDER20240520002"}, merchant_key, version)


def test_consume_form_auto_submits_signed_hidden_fields():
    client = make_client()
    html = client.consume_form(
        "ORDER20240520001",
        1000,
        "https://shop.example/return?a=1&b=2",
        "https://shop.example/notify",
        orderDesc='"引号" <b>',
        riskRateInfo="{commodityName=测试}",
    )

    class Inputs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields, self.action = {}, ""

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form":
                self.action = attrs["action"]
            if tag == "input":
                self.fields[attrs["name"]] = attrs["value"]

    parsed = Inputs()
    parsed.feed(html)
    assert parsed.action == "http://127.0.0.1:9/gateway/api/frontTransReq.do"
    assert ".submit()" in html
    fields = parsed.fields
    assert fields["txnType"] == "01" and fields["txnSubType"] == "01" and fields["bizType"] == "000201"
    assert fields["txnAmt"] == "1000" and fields["currencyCode"] == "156" and fields["channelType"] == "07"
    assert fields["frontUrl"] == "https://shop.example/return?a=1&b=2" and fields["orderDesc"] == '"引号" <b>'
    assert len(fields["txnTime"]) == 14
    assert codec.verify(fields, crypto.load_public_key(MERCHANT_CERT))


def test_amounts_are_integer_fen_and_order_ids_are_checked():
    assert fen(1) == "1" and fen(1000) == "1000"
    for bad in (1.5, "100", True):
        with pytest.raises(TypeError):
            fen(bad)
    with pytest.raises(ValueError):
        fen(0)
    with pytest.raises(ValueError, match="orderId"):
        make_client().consume_params("ORDER-1", 100, "https://a", "https://b")


def test_outcome_follows_the_official_demos():
    assert [outcome(c) for c in ("00", "A6")] == ["success"] * 2
    assert [outcome(c) for c in ("03", "04", "05")] == ["pending"] * 3
    assert [outcome(c) for c in ("01", "11", "34", "99", "")] == ["failure"] * 5


# -- verification of what the sandbox signs -------------------------------------------------------------------------


def test_verifies_a_sandbox_answer_with_awkward_values(keys):
    signed = keys.signed(answer_fields())
    assert make_client().verify_answer(codec.render(signed)) == signed
    assert make_client().verify_answer("{" + codec.render(signed) + "}") == signed


def test_refuses_a_tampered_field(keys):
    signed = keys.signed(answer_fields())
    error = refuse(make_client(), {**signed, "origRespCode": "01"}, "signature check failed")
    assert error.fields["origRespCode"] == "01"
    refuse(make_client(), {k: v for k, v in signed.items() if k != "reqReserved"}, "signature check failed")
    refuse(make_client(), {k: v for k, v in signed.items() if k != "signature"}, "no signature")


def test_refuses_an_answer_without_sign_pub_key_cert(keys):
    signed = keys.signed(answer_fields())
    refuse(make_client(), {k: v for k, v in signed.items() if k != "signPubKeyCert"}, "signPubKeyCert")
    refuse(make_client(), {**signed, "signPubKeyCert": "not a certificate"}, "signPubKeyCert")


def test_refuses_a_self_signed_sign_pub_key_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _issue(TEST_CN, key, TEST_CN, key, ca=False)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    forged = UnionPayKeys(ROOT_PEM, MIDDLE_PEM, _pem(cert), key_pem).signed(answer_fields())
    refuse(make_client(), forged, "chain check failed: signPubKeyCert is not issued by the configured middle")


def test_refuses_a_cert_from_another_chain_with_the_same_names(throwaway_chain):
    _, _, other = throwaway_chain()
    refuse(make_client(), other.signed(answer_fields()), "chain check failed")


def test_refuses_a_middle_that_the_root_did_not_issue(throwaway_chain, keys):
    other_root, _, _ = throwaway_chain()
    client = make_client(root_cert=other_root)
    refuse(
        client, keys.signed(answer_fields()), "the configured middle certificate is not issued by the configured root"
    )


def test_accepts_a_throwaway_chain_it_is_configured_with(throwaway_chain):
    root, middle, signer = throwaway_chain()
    signed = signer.signed(answer_fields())
    assert make_client(root_cert=root, middle_cert=middle).verify_answer(codec.render(signed)) == signed


def test_refuses_an_expired_sign_pub_key_cert(throwaway_chain):
    now = datetime.now(UTC)
    root, middle, signer = throwaway_chain(not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    refuse(
        make_client(root_cert=root, middle_cert=middle),
        signer.signed(answer_fields()),
        "validity check failed.*expired",
    )


def test_refuses_a_not_yet_valid_sign_pub_key_cert(throwaway_chain):
    now = datetime.now(UTC)
    root, middle, signer = throwaway_chain(not_before=now + timedelta(days=1), not_after=now + timedelta(days=30))
    refuse(make_client(root_cert=root, middle_cert=middle), signer.signed(answer_fields()), "not yet valid")


def test_the_fixture_chain_expires_for_a_client_living_in_2050(keys):
    late = make_client(clock=lambda: datetime(2050, 1, 2, tzinfo=UTC))
    refuse(late, keys.signed(answer_fields()), "validity check failed: signPubKeyCert expired")


@pytest.mark.parametrize("cn", ["041@Z2024-01-01@00040000:ENC@00000001", "paysandbox signer", "041@00040000:SIGN"])
def test_refuses_a_wrong_cn_role(throwaway_chain, cn):
    root, middle, signer = throwaway_chain(leaf_cn=cn)
    refuse(make_client(root_cert=root, middle_cert=middle), signer.signed(answer_fields()), "CN check failed")


def test_validate_cn_name_requires_the_production_name(throwaway_chain, keys):
    strict = make_client(validate_cn_name=True)
    refuse(strict, keys.signed(answer_fields()), "CN check failed.*中国银联股份有限公司")
    root, middle, signer = throwaway_chain(leaf_cn=PRODUCTION_CN)
    signed = signer.signed(answer_fields())
    assert make_client(root_cert=root, middle_cert=middle, validate_cn_name=True).verify_answer(codec.render(signed))
    assert make_client(root_cert=root, middle_cert=middle).verify_answer(codec.render(signed))


def test_refuses_another_sign_method_and_unknown_versions(keys):
    refuse(make_client(), keys.signed(answer_fields(signMethod="11")), "signMethod check failed")
    refuse(make_client(), keys.signed(answer_fields(version="6.0.0")), "version check failed")


def test_verifies_a_500_answer_by_cert_id_with_sha1(keys):
    serial = str(x509.load_pem_x509_certificate(keys.sign_cert_pem.encode()).serial_number)
    signed = keys.signed(answer_fields(version="5.0.0"), version="5.0.0")
    assert "signPubKeyCert" not in signed and signed["certId"] == serial  # docs/protocols/unionpay.md#answers
    client = make_client(version="5.0.0", verify_certs={serial: keys.sign_cert_pem})
    assert client.verify_answer(codec.render(signed)) == signed
    refuse(make_client(version="5.0.0"), signed, "certId check failed")


# -- notifications --------------------------------------------------------------------------------------------------


def test_verifies_a_back_notification_form_and_refuses_another_merchant(keys):
    notify = keys.signed(answer_fields(txnType="01", txnSubType="01", bizType="000201", settleAmt="1000"))
    form = dict(parse_qsl(urlencode(notify)))  # what a web framework hands the merchant
    assert make_client().verify_notification({**form, "payType": ""}) == notify
    other = keys.signed(answer_fields(merId="777290058110098"))
    with pytest.raises(UnionPaySignatureError, match="merId check failed"):
        make_client().verify_notification(other)
    with pytest.raises(UnionPaySignatureError, match="signature check failed"):
        make_client().verify_notification({**form, "txnAmt": "1"})


# -- back transactions over a fake session ----------------------------------------------------------------------------


def echo_answer(keys: UnionPayKeys, **extra: str):
    """A sandbox-like answer echoing the request's identity fields."""

    def answer(request: dict[str, str]) -> str:
        echoed = {
            k: request[k] for k in ("merId", "orderId", "txnTime", "txnType", "txnSubType", "bizType") if k in request
        }
        return codec.render(keys.signed(answer_fields(**echoed, **extra)))

    return answer


def test_back_requests_are_signed_form_posts_to_the_right_endpoints(keys):
    session = FakeSession(echo_answer(keys, tn="777290058110097201405201314150000001"))
    client = make_client(session=session)
    assert session.trust_env is False
    query = client.query("ORDER20240520001", "20240520131415")
    tn = client.app_consume("ORDER20240520002", 1, "https://shop.example/notify")["tn"]
    refund = client.refund("202405201314150000001", "REFUND20240520001", 500, "https://shop.example/notify")
    undo = client.undo("202405201314150000001", "UNDO20240520001", 1000, "https://shop.example/notify")
    assert query["respCode"] == "00" and tn.startswith("777290058110097")
    assert refund["txnType"] == "04" and undo["txnType"] == "31"
    urls = [url for url, _, _ in session.calls]
    assert urls == [
        "http://127.0.0.1:9/gateway/api/queryTrans.do",
        "http://127.0.0.1:9/gateway/api/appTransReq.do",
        "http://127.0.0.1:9/gateway/api/backTransReq.do",
        "http://127.0.0.1:9/gateway/api/backTransReq.do",
    ]
    merchant_key = crypto.load_public_key(MERCHANT_CERT)
    for _, data, headers in session.calls:
        assert headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
        assert codec.verify(data, merchant_key)
    _, query_data, _ = session.calls[0]
    assert (query_data["txnType"], query_data["txnSubType"], query_data["bizType"]) == ("00", "00", "000000")
    _, app_data, _ = session.calls[1]
    assert app_data["channelType"] == "08" and "frontUrl" not in app_data and app_data["txnAmt"] == "1"
    _, refund_data, _ = session.calls[2]
    assert refund_data["origQryId"] == "202405201314150000001" and refund_data["txnAmt"] == "500"
    assert refund_data["currencyCode"] == "156" and refund_data["backUrl"] == "https://shop.example/notify"


def test_base_url_may_already_name_the_api_path():
    assert (
        make_client(base_url="http://h:1/gateway/api/").url("queryTrans.do") == "http://h:1/gateway/api/queryTrans.do"
    )


def test_non_200_and_unsigned_answers_are_failures(keys):
    client = make_client(session=FakeSession(lambda _: ("<html>busy</html>", 503)))
    with pytest.raises(UnionPayClientError, match="HTTP 503"):
        client.query("ORDER20240520001", "20240520131415")
    unsigned = make_client(session=FakeSession(lambda _: "respCode=11&respMsg=验证签名失败"))
    with pytest.raises(UnionPaySignatureError, match="no signature") as caught:
        unsigned.query("ORDER20240520001", "20240520131415")
    assert caught.value.fields["respCode"] == "11"
    stranger = make_client(
        session=FakeSession(lambda _: codec.render(keys.signed(answer_fields(merId="777290058110098"))))
    )
    with pytest.raises(UnionPaySignatureError, match="merId check failed"):
        stranger.query("ORDER20240520001", "20240520131415")
