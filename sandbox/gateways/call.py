"""What every gateway's handler call holds: the sandbox it runs in, with its payments and its clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class SandboxCall:
    sandbox: object

    @property
    def payments(self):
        return self.sandbox.payments

    def now(self) -> datetime:
        return self.sandbox.clock.now()
