"""Seeded fuzzing of every gateway: valid signed requests, mutated (and mostly re-signed), each answer judged."""

from __future__ import annotations

from sandbox.testing.fuzz.alipay import AlipayFuzzer
from sandbox.testing.fuzz.alipay_v3 import AlipayV3Fuzzer
from sandbox.testing.fuzz.base import GatewayFuzzer
from sandbox.testing.fuzz.unionpay import UnionPayFuzzer
from sandbox.testing.fuzz.wechatpay_v2 import WechatPayV2Fuzzer
from sandbox.testing.fuzz.wechatpay_v3 import WechatPayV3Fuzzer

FUZZERS: dict[str, type[GatewayFuzzer]] = {
    fuzzer.name: fuzzer
    for fuzzer in (AlipayFuzzer, AlipayV3Fuzzer, WechatPayV3Fuzzer, WechatPayV2Fuzzer, UnionPayFuzzer)
}
