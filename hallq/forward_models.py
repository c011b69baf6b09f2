"""Cases across halls (转报, DESIGN §14): the shapes a hall and the hub exchange, defined once.

A transfer goes from one hall to another through the hub, once per `key` (the sender's idempotency
key): either a forwarded case (`case`) or news of a forwarded case from the hall deciding it
(`news`: each step there, and finally its decision). Personal data travels masked only.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TransferKind = Literal["case", "news"]
HallId = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ForwardBody(BaseModel):
    """`POST /halls/{hall}/cases/{id}/forward`: the hall that decides the case."""

    model_config = ConfigDict(extra="forbid")
    to_hall: str = HallId


class ForwardedMaterial(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    form: str
    copies: int
    deferrable: bool
    status: str


class ForwardedStep(BaseModel):
    """One line of the case's history at the hall it came from."""

    model_config = ConfigDict(extra="forbid")
    at: dt.datetime
    actor: str
    role: str
    action: str
    from_status: str | None = None
    to_status: str
    note: str = ""


class ForwardedCase(BaseModel):
    """What the deciding hall gets: the item, the receipt number and masked personal data only."""

    model_config = ConfigDict(extra="forbid")
    receipt_no: str
    item: str
    origin_name: str
    channel: str
    masked_name: str = ""
    masked_id: str = ""
    masked_phone: str = ""
    received_at: dt.datetime
    materials: list[ForwardedMaterial] = Field(default_factory=list)
    history: list[ForwardedStep] = Field(default_factory=list)
    note: str = ""


class CaseNews(BaseModel):
    """A step of the forwarded case at the deciding hall; `decision` set once it is decided."""

    model_config = ConfigDict(extra="forbid")
    hall_name: str
    status: str
    status_label: str
    note: str = ""
    at: dt.datetime
    decision: Literal["approved", "rejected"] | None = None


class Transfer(BaseModel):
    """`POST /hub/halls/{hall}/transfers` from the sending hall (its own token)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=8, max_length=160)
    to_hall: str = HallId
    kind: TransferKind
    case_id: str = Field(min_length=1, max_length=32)
    case: ForwardedCase | None = None
    news: CaseNews | None = None

    @model_validator(mode="after")
    def _payload_matches_kind(self) -> Transfer:
        if (self.kind == "case") != (self.case is not None) or (self.kind == "news") != (self.news is not None):
            raise ValueError("a transfer of kind case carries `case`, of kind news carries `news`")
        return self


class InboundTransfer(Transfer):
    from_hall: str


class TransferStored(BaseModel):
    key: str
    stored: bool = Field(description="false: the hub already held this key (sent again after a lost answer)")


class InboundTransfers(BaseModel):
    """`GET /hub/halls/{hall}/transfers`: what waits for the hall, oldest first; each stays until acknowledged."""

    transfers: list[InboundTransfer]
