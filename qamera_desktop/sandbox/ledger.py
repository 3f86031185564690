"""The credit ledger as read back from the store: per account and per reservation, with the
invariant each must satisfy at every moment (see `store.py`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReservationLedger:
    reservation_id: str
    account_id: str
    price_per_image: int
    reserved: int
    consumed: int
    refunded: int
    pending: int
    """Credits still held for images that are QUEUED or PROCESSING."""

    @property
    def balanced(self) -> bool:
        return self.reserved == self.consumed + self.refunded + self.pending


@dataclass(frozen=True, slots=True)
class AccountLedger:
    account_id: str
    balance: int
    granted: int
    reserved: int
    consumed: int
    refunded: int

    @property
    def balanced(self) -> bool:
        return self.balance == self.granted - self.reserved + self.refunded


@dataclass(frozen=True, slots=True)
class LedgerReport:
    accounts: tuple[AccountLedger, ...]
    reservations: tuple[ReservationLedger, ...]
    unsettled_finished_images: int
    """Images of a reservation that are DONE/FAILED without a CONSUME/REFUND (must be 0)."""

    @property
    def balanced(self) -> bool:
        return (
            all(a.balanced for a in self.accounts)
            and all(r.balanced for r in self.reservations)
            and self.unsettled_finished_images == 0
        )

    def account(self, account_id: str) -> AccountLedger:
        return next(a for a in self.accounts if a.account_id == account_id)

    def to_json(self) -> dict[str, object]:
        return {
            "balanced": self.balanced,
            "unsettledFinishedImages": self.unsettled_finished_images,
            "accounts": [
                {
                    "accountId": a.account_id,
                    "balance": a.balance,
                    "granted": a.granted,
                    "reserved": a.reserved,
                    "consumed": a.consumed,
                    "refunded": a.refunded,
                    "balanced": a.balanced,
                }
                for a in self.accounts
            ],
            "reservations": [
                {
                    "reservationId": r.reservation_id,
                    "accountId": r.account_id,
                    "pricePerImage": r.price_per_image,
                    "reserved": r.reserved,
                    "consumed": r.consumed,
                    "refunded": r.refunded,
                    "pending": r.pending,
                    "balanced": r.balanced,
                }
                for r in self.reservations
            ],
        }
