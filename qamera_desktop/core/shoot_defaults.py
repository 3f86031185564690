"""What a new shoot starts from, outside the New shoot dialog (ui/new_shoot_dialog.py): the
industries offered, the defaults that Preferences sets, and the catalogue that the dialog reads
(the account's products, models, sceneries and presets: the API client, measured by the window).

Qt-free and small, so that the window, Preferences and the Shoots room name these without
importing the dialog, which is imported when a designer first opens it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from qamera_desktop.api.records import AiModel, Preset, Product, Scenery
from qamera_desktop.api.shoot_request import DEFAULT_COUNT

INDUSTRIES = (
    "fashion",
    "accessories",
    "footwear",
    "jewelry",
    "beauty",
    "home & living",
    "electronics",
    "food & beverage",
    "sports",
)


@dataclass(frozen=True, slots=True)
class ShootDefaults:
    """What a new shoot starts with when nothing else says (Preferences, New shoots)."""

    industry: str | None = None
    count: int = DEFAULT_COUNT


class Catalogue(Protocol):
    async def list_products(self) -> list[Product]: ...
    async def list_models(self, status_filter: str = "all") -> list[AiModel]: ...
    async def list_sceneries(self, status_filter: str = "all") -> list[Scenery]: ...
    async def list_presets(self, max_records: int | None = None) -> list[Preset]: ...
