"""The bank cashier's test cards: which card number gives which outcome (the official demos' cards plus the
sandbox's own, listed in docs/scenarios.md).

The three cards of the official demos pay. The sandbox adds debit cards in the demo card's series,
``6216261000000000`` + two digits + a Luhn check digit, where the two digits are the respCode they answer
(the demo card itself is ``...0001`` + ``8``). Every card in the table belongs to the demo's card holder:
name 全渠道, ID 341126197709218366, phone 13552535506 (another name, ID or phone answers 66).

A number not in the table pays as a debit card if it is 13-19 digits and passes the Luhn check, with any
holder details; otherwise it is an invalid card number (61). The SMS code is 111111 on a PC (channelType 07)
and 123456 on a phone (08); a wrong one answers 71. A credit card also needs its expiry (YYMM) and CVN2;
a wrong one answers 65. Every failure fails the order with failure.reason = the respCode, which a query
shows as origRespCode; only a successful payment sends the back notification (docs/protocols/unionpay.md#notifications).

A card's outcome is gateway magic: scenario rules and magic amounts come first (Sandbox.decide_payment), so a
rule can fail the paying card or pay a declining one. Input errors (61, 65, 66, 71) are checked before that.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.core.outcomes import Decision

DEBIT, CREDIT = "debit", "credit"
# The answers a client must treat as "query again later" (docs/protocols/unionpay.md#response-codes).
PENDING_CODES = ("03", "05")
PENDING_SECONDS = 30  # a pending card (05) settles this long after the buyer paid, on the sandbox clock
HOLDER = {"name": "全渠道", "idNo": "341126197709218366", "phone": "13552535506"}  # the demo's card holder
SMS_CODES = {"07": "111111", "08": "123456"}  # channelType -> the SMS code the demo documents (PC / mobile)
PAY_CARD_TYPES = {DEBIT: "01", CREDIT: "02"}  # payCardType on the wire


@dataclass(frozen=True)
class Card:
    kind: str  # debit or credit
    code: str  # respCode on paying: 00, a failure code, or 05 (accepted, settles PENDING_SECONDS later)
    label: str
    expiry: str = ""  # YYMM, credit cards only
    cvn2: str = ""
    settles_to: str = ""  # for code 05: success or fail


# card number -> outcome, as docs/scenarios.md lists them.
CARDS: dict[str, Card] = {
    "6216261000000000018": Card(DEBIT, "00", "Ping An debit card of the official demo: pays"),
    "6221558812340000": Card(CREDIT, "00", "credit card of the official demo: pays", expiry="2311", cvn2="123"),
    "5200831111111113": Card(CREDIT, "00", "credit card of the official demo: pays", expiry="1911", cvn2="123"),
    "6216261000000000646": Card(DEBIT, "64", "insufficient balance (余额不足)"),
    "6216261000000000737": Card(DEBIT, "73", "card expired (卡已过期)"),
    "6216261000000000638": Card(DEBIT, "63", "card status abnormal (卡状态不正确)"),
    "6216261000000000034": Card(
        DEBIT, "03", "timed out (03, state unknown), succeeds 30 s later", settles_to="success"
    ),
    "6216261000000000059": Card(DEBIT, "05", "accepted (05), succeeds 30 s later", settles_to="success"),
    "6216261000000000158": Card(DEBIT, "05", "accepted (05), fails (01) 30 s later", settles_to="fail"),
}
SETTLE_FAILURE = "01"  # what a pending card that then fails answers when it settles
CARD = "card"  # Decision.source of a test card's own outcome


def luhn_ok(number: str) -> bool:
    if not (number.isascii() and number.isdigit()) or not 13 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_for(number: str) -> Card | None:
    """The card's outcome; None for an invalid card number (61)."""
    if number in CARDS:
        return CARDS[number]
    if luhn_ok(number):
        return Card(DEBIT, "00", "any other Luhn-valid number: a debit card that pays")
    return None


def sms_code(channel_type: str) -> str:
    return SMS_CODES.get(channel_type, SMS_CODES["07"])


def decision(card: Card) -> Decision | None:
    """What a test card says about the payment, for Sandbox.decide_payment; None for a card that pays."""
    if card.code in PENDING_CODES:
        code = SETTLE_FAILURE if card.settles_to == "fail" else ""
        return Decision(
            "pending", code, settle_after=PENDING_SECONDS, then=card.settles_to, source=CARD, message=card.label
        )
    if card.code != "00":
        return Decision("fail", card.code, source=CARD, message=card.label)
    return None


def explain(source: str) -> str:
    """Why a payment did not simply succeed when a rule or a magic amount decided, for respMsg."""
    return f"decided by {source} (a sandbox scenario rule or magic amount; GET /_sandbox/scenarios)"
