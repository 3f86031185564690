"""The demo data a new sandbox starts with: accounts, keys, products, AI models, sceneries, presets
and a history of finished images.

Two accounts: the documentation's example key opens a small catalogue holding exactly the ids of
Qamera's curl examples (prod_abc123, model_xyz, scenery_001, and the image img_abc123); the
sandbox's demo key (and a read-only key without the `content.register` scope) open a nicer demo
catalogue.
Pure data: `store.py` writes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from qamera_desktop.sandbox.keys import DEMO_API_KEY, EXAMPLE_API_KEY, READONLY_API_KEY

SCOPE_READ = "content.read"
SCOPE_REGISTER = "content.register"

EXAMPLE_ACCOUNT = "acct_example"
DEMO_ACCOUNT = "acct_demo"

SHOOT_LABELS = {
    "clothing": "Fashion",
    "bags": "Accessories",
    "shoes": "Footwear",
    "homeware": "Homeware",
}
"""The first word of an image's name when the shoot names no industry."""


@dataclass(frozen=True, slots=True)
class AccountSeed:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class KeySeed:
    key: str
    account_id: str
    label: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProductSeed:
    id: str
    account_id: str
    name: str
    category: str  # a key of SHOOT_LABELS
    shape: str  # a renderer shape
    color: str
    age_days: float


@dataclass(frozen=True, slots=True)
class ModelSeed:
    id: str
    account_id: str
    name: str
    skin: str
    hair: str
    long_hair: bool
    voting: str | None
    age_days: float


@dataclass(frozen=True, slots=True)
class ScenerySeed:
    id: str
    account_id: str
    name: str
    style: str
    voting: str | None
    age_days: float


@dataclass(frozen=True, slots=True)
class PresetSeed:
    id: str
    account_id: str
    name: str
    guidelines: str
    quantity_guidelines: str
    quality_guidelines: str
    age_days: float


@dataclass(frozen=True, slots=True)
class ImageSeed:
    id: str
    account_id: str
    product_id: str
    model_id: str | None
    scenery_id: str | None
    name: str
    status: str
    voting: str | None
    age_hours: float
    fixed_created_at: str | None = None


ACCOUNTS = (
    AccountSeed(EXAMPLE_ACCOUNT, "Example Store (documentation key)"),
    AccountSeed(DEMO_ACCOUNT, "Demo Studio"),
)

KEYS = (
    KeySeed(
        EXAMPLE_API_KEY, EXAMPLE_ACCOUNT, "documentation example", (SCOPE_READ, SCOPE_REGISTER)
    ),
    KeySeed(DEMO_API_KEY, DEMO_ACCOUNT, "sandbox demo", (SCOPE_READ, SCOPE_REGISTER)),
    KeySeed(READONLY_API_KEY, DEMO_ACCOUNT, "sandbox read-only", (SCOPE_READ,)),
)

PRODUCTS = (
    ProductSeed(
        "prod_abc123", EXAMPLE_ACCOUNT, "White T-Shirt", "clothing", "tshirt", "#f2f1ee", 40
    ),
    ProductSeed(
        "prod_def456", EXAMPLE_ACCOUNT, "Black Hoodie", "clothing", "hoodie", "#2b2b2e", 35
    ),
    ProductSeed("prod_ghi789", EXAMPLE_ACCOUNT, "Canvas Tote", "bags", "tote", "#d8ccb0", 30),
    ProductSeed("prod_wtee01", DEMO_ACCOUNT, "White T-Shirt", "clothing", "tshirt", "#f2f1ee", 60),
    ProductSeed("prod_tote02", DEMO_ACCOUNT, "Leather Tote Bag", "bags", "tote", "#8b5a2b", 55),
    ProductSeed("prod_run03", DEMO_ACCOUNT, "Running Shoes", "shoes", "shoe", "#e8503a", 50),
    ProductSeed("prod_vase04", DEMO_ACCOUNT, "Ceramic Vase", "homeware", "vase", "#7fa39a", 45),
    ProductSeed("prod_denim05", DEMO_ACCOUNT, "Denim Jacket", "clothing", "jacket", "#3d5a80", 40),
    ProductSeed("prod_mug06", DEMO_ACCOUNT, "Stoneware Mug", "homeware", "mug", "#d9c6a5", 35),
)

MODELS = (
    ModelSeed("model_xyz", EXAMPLE_ACCOUNT, "Ava", "#e0b9a0", "#3a2a20", True, "APPROVED", 40),
    ModelSeed("model_abc", EXAMPLE_ACCOUNT, "Noah", "#c99878", "#2a1c14", False, None, 38),
    ModelSeed("model_ava", DEMO_ACCOUNT, "Ava", "#e0b9a0", "#3a2a20", True, "APPROVED", 58),
    ModelSeed("model_malik", DEMO_ACCOUNT, "Malik", "#7a5038", "#151212", False, "APPROVED", 57),
    ModelSeed("model_sofia", DEMO_ACCOUNT, "Sofia", "#c99878", "#5a3a22", True, None, 56),
    ModelSeed("model_kenji", DEMO_ACCOUNT, "Kenji", "#e3c2a0", "#101014", False, None, 55),
)

SCENERIES = (
    ScenerySeed("scenery_001", EXAMPLE_ACCOUNT, "Urban Street", "urban", "APPROVED", 40),
    ScenerySeed("scenery_002", EXAMPLE_ACCOUNT, "Studio White", "studio", None, 39),
    ScenerySeed("scenery_studio", DEMO_ACCOUNT, "Studio White", "studio", "APPROVED", 59),
    ScenerySeed("scenery_urban", DEMO_ACCOUNT, "Urban Street at Dusk", "urban", "APPROVED", 58),
    ScenerySeed("scenery_beach", DEMO_ACCOUNT, "Sunlit Beach", "beach", None, 57),
    ScenerySeed("scenery_loft", DEMO_ACCOUNT, "Marble Loft", "loft", "APPROVED", 56),
    ScenerySeed("scenery_forest", DEMO_ACCOUNT, "Forest Morning", "forest", None, 55),
)

_CLEAN = (
    "Product centred on a seamless background, true-to-life colour, no props.",
    "One hero shot plus detail and back views.",
    "Sharp focus on the product, soft even light, no harsh shadows.",
)

PRESETS = (
    PresetSeed("preset_001", EXAMPLE_ACCOUNT, "Clean E-commerce", *_CLEAN, 40),
    PresetSeed(
        "preset_002",
        EXAMPLE_ACCOUNT,
        "Street Style",
        "Candid urban look, model in motion, city textures in the background.",
        "Mix of full-body and three-quarter shots.",
        "Natural light, slight film grain, no heavy retouching.",
        39,
    ),
    PresetSeed("preset_clean", DEMO_ACCOUNT, "Clean E-commerce", *_CLEAN, 59),
    PresetSeed(
        "preset_editorial",
        DEMO_ACCOUNT,
        "Editorial Fashion",
        "Magazine-style framing with confident poses and bold negative space.",
        "Mostly portrait crops; include at least one close-up of the fabric.",
        "High contrast, crisp detail, skin retouched naturally.",
        58,
    ),
    PresetSeed(
        "preset_lifestyle",
        DEMO_ACCOUNT,
        "Lifestyle Warm",
        "The product in everyday use in a warm, lived-in setting.",
        "A variety of scenes; people optional.",
        "Golden-hour tones, soft shadows, gentle depth of field.",
        57,
    ),
    PresetSeed(
        "preset_flatlay",
        DEMO_ACCOUNT,
        "Minimal Flat Lay",
        "Top-down arrangement with a few complementary props.",
        "Square-friendly compositions, consistent spacing.",
        "Diffuse light, accurate colour, no reflections.",
        56,
    ),
)

_PRODUCT_BY_ID = {p.id: p for p in PRODUCTS}


def image_name(label: str, product_name: str) -> str:
    """`Fashion Shoot - White T-Shirt`, the naming of Qamera's examples."""
    return f"{label} Shoot - {product_name}"


_DEMO_PRODUCTS = tuple(p for p in PRODUCTS if p.account_id == DEMO_ACCOUNT)
_DEMO_MODELS = tuple(m.id for m in MODELS if m.account_id == DEMO_ACCOUNT)
_DEMO_SCENERIES = tuple(s.id for s in SCENERIES if s.account_id == DEMO_ACCOUNT)


def _demo_id(tag: str) -> str:
    return "img_" + hashlib.sha1(tag.encode(), usedforsecurity=False).hexdigest()[:12]


def _example_images() -> list[ImageSeed]:
    ex = EXAMPLE_ACCOUNT
    tee = image_name("Fashion", "White T-Shirt")
    images = [
        ImageSeed(
            "img_abc123",
            ex,
            "prod_abc123",
            "model_xyz",
            "scenery_001",
            tee,
            "DONE",
            "APPROVED",
            0,
            "2026-03-20T16:00:00.000Z",
        )
    ]
    plan = [
        ("prod_abc123", "model_xyz", "scenery_001", "DONE", "APPROVED"),
        ("prod_abc123", "model_abc", "scenery_002", "DONE", None),
        ("prod_abc123", None, "scenery_002", "DONE", None),
        ("prod_def456", "model_abc", "scenery_001", "DONE", "APPROVED"),
        ("prod_def456", "model_xyz", "scenery_001", "DONE", None),
        ("prod_ghi789", "model_xyz", "scenery_002", "DONE", None),
        ("prod_ghi789", None, "scenery_001", "FAILED", None),
    ]
    for n, (product, model, scenery, status, voting) in enumerate(plan):
        p = _PRODUCT_BY_ID[product]
        name = image_name(SHOOT_LABELS[p.category], p.name)
        images.append(
            ImageSeed(
                _demo_id(f"example-{n}"),
                ex,
                product,
                model,
                scenery,
                name,
                status,
                voting,
                30 + 7 * n,
            )
        )
    return images


def _demo_images() -> list[ImageSeed]:
    products, models, sceneries = _DEMO_PRODUCTS, _DEMO_MODELS, _DEMO_SCENERIES
    images = []
    for n in range(40):
        p = products[n % len(products)]
        wearable = p.category in ("clothing", "bags")
        model = models[(n // 2) % len(models)] if wearable and n % 3 != 2 else None
        scenery = sceneries[(n * 2 + n // 6) % len(sceneries)]
        status = "FAILED" if n in (9, 26) else "DONE"
        voting = {3: "APPROVED", 7: "APPROVED", 12: "APPROVED", 18: "APPROVED", 22: "APPROVED"}.get(
            n
        )
        voting = voting or ("APPROVED" if n in (30, 35) else "REJECTED" if n in (5, 31) else None)
        if status == "FAILED":
            voting = None
        images.append(
            ImageSeed(
                _demo_id(f"demo-{n}"),
                DEMO_ACCOUNT,
                p.id,
                model,
                scenery,
                image_name(SHOOT_LABELS[p.category], p.name),
                status,
                voting,
                2 + n * 11.5,
            )
        )
    return images


def demo_images() -> list[ImageSeed]:
    """The finished history of both accounts: some APPROVED, a few REJECTED, a couple FAILED."""
    return _example_images() + _demo_images()


SCALE_APPROVE_EVERY = 9
"""One in nine `--seed-images` images is APPROVED."""
SCALE_SECONDS_APART = 36
SCALE_OLDER_THAN_DAYS = 30
"""`--seed-images` images are older than the demo history: from 30 days back, 36 s apart."""


def scale_products() -> list[tuple[str, str, bool]]:
    """(product id, image name, worn by a model) cycled through by `--seed-images`."""
    return [
        (p.id, image_name(SHOOT_LABELS[p.category], p.name), p.category in ("clothing", "bags"))
        for p in _DEMO_PRODUCTS
    ]


def scale_models() -> tuple[str, ...]:
    return _DEMO_MODELS


def scale_sceneries() -> tuple[str, ...]:
    return _DEMO_SCENERIES
