"""What every gateway's handler call holds: the sandbox it runs in, with its payments and its clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SandboxCall:
    sandbox: object
    # Who made the call when it was not the merchant over the wire (models.VIA_CONTROL_API): a refund or a close
    # records it, so the integration report can leave it out.
    via: str = field(default="", kw_only=True)

    @property
    def payments(self):
        return self.sandbox.payments

    @property
    def marks(self) -> dict:
        """What a refund made by this call keeps in its extra about who asked (nothing for the merchant's call)."""
        return {"via": self.via} if self.via else {}

    def now(self) -> datetime:
        return self.sandbox.clock.now()
