"""What the demo shop sells: a few goods, and test items priced at the sandbox's magic amounts (docs/scenarios.md),
so a newcomer can watch the shop cope with a decline, a lost, duplicated, forged or tampered notification,
and a refused refund, without writing a scenario rule."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.merchant.shop.orders import Line


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: int  # fen
    blurb: str
    test_item: bool = False


PRODUCTS = (
    Product("coffee", "Yunnan coffee beans, 250 g", 3990, "Medium roast from Pu'er."),
    Product("tea", "Longjing green tea, 100 g", 6800, "This spring's first picking."),
    Product("mug", "Celadon mug", 4500, "Longquan glaze, 300 ml."),
    Product("postcard", "Postcard of the West Lake", 1, "One fen: the classic first test payment."),
    Product("declined", "Declined payment", 601, "The buyer's balance is not enough.", True),
    Product("lost", "Lost first notification", 605, "The shop must not lose the order: the retry comes.", True),
    Product("twice", "Every notification twice", 606, "The shop must credit once.", True),
    Product("forged", "Forged notifications", 607, "Invalid signatures: the shop must reject them.", True),
    Product("tampered", "Tampered amount", 608, "Notifications claim 0.01 paid: the shop must reject them.", True),
    Product("norefund", "Refund refused", 609, "The merchant's balance is not enough to refund.", True),
)
BY_SKU = {product.sku: product for product in PRODUCTS}
MAX_QUANTITY = 99


def lines_of(cart: dict[str, int]) -> list[Line]:
    """The cart (sku -> quantity, from the buyer's cookie) as order lines, at the catalogue's prices."""
    return [
        Line(sku, BY_SKU[sku].name, BY_SKU[sku].price, min(int(quantity), MAX_QUANTITY))
        for sku, quantity in cart.items()
        if sku in BY_SKU and int(quantity) > 0
    ]
