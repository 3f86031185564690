"""manifest.csv and manifest.json: one row per image, every field, whatever became of it."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qamera_desktop.api import Image, Product, ShootReceipt, ShootRequest
from qamera_desktop.core.export.manifest import (
    COLUMNS,
    Cell,
    ManifestEntry,
    Outcome,
    csv_text,
    write_manifest,
)
from qamera_desktop.core.export.records import ExportItem
from qamera_desktop.core.review import Flag, Label, RejectReason, Review
from qamera_desktop.core.shoots import Shoot, ShootState

CREATED = datetime(2026, 12, 7, 4, 4, 16, 557000, tzinfo=UTC)
EXPORTED = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
MUG = Product("prod_mug06", "Stoneware Mug", "https://cdn/p.jpg", "UPLOADED", CREATED)
SHOOT = Shoot(
    local_id="s1",
    account="acct_x",
    request=ShootRequest(
        product_id="prod_mug06",
        model_id="model_xyz",
        scenery_id="scenery_001",
        preset_id="preset_7",
        industry="Homeware",
        suggestions="on a wooden table",
        count=3,
    ),
    product_name="Stoneware Mug",
    state=ShootState.FINISHED,
    created_at=CREATED,
    receipt=ShootReceipt(("img_1", "img_2", "img_3"), "batch_42", "order_1", "res_1", 9.0),
)


def image(image_id: str, name: str, **changes: object) -> Image:
    values: dict[str, object] = {
        "id": image_id,
        "name": name,
        "thumbnail": f"https://cdn.example/images/{image_id}.jpg",
        "status": "DONE",
        "created_at": CREATED,
        "voting": "APPROVED",
    }
    values.update(changes)
    return Image(**values)  # type: ignore[arg-type]


@pytest.fixture
def entries(tmp_path: Path) -> list[ManifestEntry]:
    return [
        ManifestEntry(
            ExportItem(
                image("img_1", "Mug, on wood"),
                Review(Flag.PICK, rating=4, label=Label.GREEN),
                MUG,
                SHOOT,
            ),
            Outcome.WRITTEN,
            file=tmp_path / "Mug, on wood__img_1.jpg",
        ),
        ManifestEntry(
            ExportItem(
                image("img_2", '=HYPERLINK("http://evil")', voting=None, created_at=None),
                Review(
                    Flag.REJECT,
                    rating=2,
                    reasons=(RejectReason.GARBLED_TEXT, RejectReason.WRONG_VIEW),
                ),
            ),
            Outcome.FAILED,
            reason="HTTP 404",
        ),
        ManifestEntry(
            ExportItem(image("img_3", "Ваза 🎉"), Review(label=Label.RED), MUG),
            Outcome.SKIPPED,
            file=tmp_path / "Ваза 🎉__img_3.png",
            sidecar=tmp_path / "Ваза 🎉__img_3.xmp",
        ),
        ManifestEntry(ExportItem(image("img_4", ""), Review()), Outcome.NOT_REACHED),
    ]


EXPECTED: list[dict[str, Cell]] = [
    {
        "id": "img_1",
        "name": "Mug, on wood",
        "productId": "prod_mug06",
        "productName": "Stoneware Mug",
        "status": "DONE",
        "voting": "APPROVED",
        "flag": "pick",
        "rating": 4,
        "label": "green",
        "rejectReasons": [],
        "createdAt": "2026-12-07T04:04:16.557000+00:00",
        "sourceUrl": "https://cdn.example/images/img_1.jpg",
        "outcome": "written",
        "file": "Mug, on wood__img_1.jpg",
        "xmpSidecar": "",
        "failureReason": "",
        "shootBatchId": "batch_42",
        "shootProductId": "prod_mug06",
        "shootModelId": "model_xyz",
        "shootSceneryId": "scenery_001",
        "shootPresetId": "preset_7",
        "shootIndustry": "Homeware",
        "shootSuggestions": "on a wooden table",
        "shootCount": 3,
    },
    {
        "id": "img_2",
        "name": '=HYPERLINK("http://evil")',
        "productId": None,
        "productName": None,
        "status": "DONE",
        "voting": None,
        "flag": "reject",
        "rating": 2,
        "label": None,
        "rejectReasons": ["garbled_text", "wrong_view"],
        "createdAt": None,
        "sourceUrl": "https://cdn.example/images/img_2.jpg",
        "outcome": "failed",
        "file": "",
        "xmpSidecar": "",
        "failureReason": "HTTP 404",
        **dict.fromkeys(
            (
                "shootBatchId",
                "shootProductId",
                "shootModelId",
                "shootSceneryId",
                "shootPresetId",
                "shootIndustry",
                "shootSuggestions",
                "shootCount",
            )
        ),
    },
]


def test_the_json_has_every_field_typed(tmp_path: Path, entries: list[ManifestEntry]) -> None:
    _, json_path = write_manifest(tmp_path, entries, exported_at=EXPORTED, cancelled=True)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert document["exportedAt"] == "2026-12-08T09:30:00+00:00"
    assert document["cancelled"] is True
    assert document["counts"] == {
        "images": 4,
        "written": 1,
        "skipped": 1,
        "failed": 1,
        "not reached": 1,
    }
    rows = document["images"]
    assert [list(row) for row in rows] == [list(COLUMNS)] * 4  # the same columns, in order
    assert rows[:2] == EXPECTED
    assert rows[2]["name"] == "Ваза 🎉"
    assert rows[2]["outcome"] == "skipped"
    assert rows[2]["file"] == "Ваза 🎉__img_3.png"
    assert rows[2]["xmpSidecar"] == "Ваза 🎉__img_3.xmp"
    assert rows[2]["label"] == "red"
    assert rows[3]["outcome"] == "not reached"
    assert rows[3]["file"] == ""
    assert rows[3]["flag"] == "none"
    assert rows[3]["rating"] == 0


def test_the_csv_has_the_same_rows_as_text(tmp_path: Path, entries: list[ManifestEntry]) -> None:
    csv_path, _ = write_manifest(tmp_path, entries, exported_at=EXPORTED, cancelled=False)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8 names right
    with csv_path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 4
    first = {key: csv_text(value) for key, value in EXPECTED[0].items()}
    assert rows[0] == first
    assert rows[0]["rating"] == "4"
    assert rows[0]["shootCount"] == "3"
    assert rows[0]["name"] == "Mug, on wood"  # a comma survives the quoting
    second = rows[1]
    assert second["name"] == '\'=HYPERLINK("http://evil")'  # not run as a formula
    assert second["rejectReasons"] == "garbled_text; wrong_view"
    assert second["productId"] == second["createdAt"] == second["shootBatchId"] == ""
    assert second["failureReason"] == "HTTP 404"
    assert rows[2]["name"] == "Ваза 🎉"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("plain", "plain"),
        (-1, "-1"),  # numbers are numbers
        (None, ""),
        (["a", "b"], "a; b"),
    ],
)
def test_csv_cells(value: object, text: str) -> None:
    assert csv_text(value) == text  # type: ignore[arg-type]


def test_rewriting_replaces_both_files_whole(tmp_path: Path, entries: list[ManifestEntry]) -> None:
    write_manifest(tmp_path, entries, exported_at=EXPORTED, cancelled=True)
    before = (tmp_path / "manifest.json").stat().st_ino
    csv_path, json_path = write_manifest(
        tmp_path, entries[:1], exported_at=EXPORTED, cancelled=False
    )
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert len(document["images"]) == 1
    assert document["cancelled"] is False
    assert len(csv_path.read_text(encoding="utf-8-sig").splitlines()) == 2
    if os.name == "posix":  # a new file renamed over the old one, not the old one rewritten
        assert json_path.stat().st_ino != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "manifest.json"]


def test_a_name_with_a_lone_surrogate_still_gives_valid_files(tmp_path: Path) -> None:
    entry = ManifestEntry(
        ExportItem(image("img_9", "bad \ud800 name"), Review()), Outcome.NOT_REACHED
    )
    csv_path, json_path = write_manifest(tmp_path, [entry], exported_at=EXPORTED, cancelled=False)
    assert json.loads(json_path.read_bytes())["images"][0]["name"] == "bad \ud800 name"
    assert "bad ? name" in csv_path.read_text(encoding="utf-8-sig")
