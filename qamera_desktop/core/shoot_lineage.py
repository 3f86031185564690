"""Where an image came from and how to shoot it again: pure functions over shoots and reviews.

- `shoot_index`: image id -> the shoot that created it (built from the shoot service's shoots);
- `config_text`: a shoot's configuration as one compact block for the details panel, with the
  names of its model, scenery and preset (`catalogue_names`) where they are known;
- `avoid_direction`: the rejects' reasons as one line of creative direction
  ("Avoid: garbled text or logo on the product; wrong side or view."), most frequent first;
- `regenerate_request`: the shoot's request again, for as many images as were rejected, with that
  line appended to the suggestions.

Qt-free; the UI only shows what these return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Protocol

from qamera_desktop.api.shoot_request import MAX_COUNT, ShootRequest
from qamera_desktop.core.review import REASON_TEXT, Flag, RejectReason, Review
from qamera_desktop.core.shoots import Shoot


def shoot_index(shoots: Iterable[Shoot]) -> dict[str, Shoot]:
    """Image id -> the shoot that created it (of two claiming an id, the newer wins)."""
    index: dict[str, Shoot] = {}
    for shoot in sorted(shoots, key=lambda s: s.created_at):
        for image_id in shoot.record_ids:
            index[image_id] = shoot
    return index


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Named(Protocol):
    """A record of the account's catalogue: an AI model, a scenery or a preset."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def catalogue_names(*catalogues: Iterable[Named]) -> dict[str, str]:
    """Id -> name over the account's models, sceneries and presets (their ids are the API's own,
    distinct across the three: model_…, scenery_…); a record without a name is left out, so
    that its id is shown."""
    return {record.id: record.name for records in catalogues for record in records if record.name}


def config_text(shoot: Shoot, names: Mapping[str, str] | None = None) -> str:
    """ "Shoot: Stoneware Mug, 3 images, 2026-12-07; model Ava; scenery Marble kitchen;
    preset Soft daylight; industry Food; direction: on a wooden table" (the parts the request
    has); a model, scenery or preset not in `names` (id -> name) is shown by its id."""
    request = shoot.request
    named = names or {}
    product = shoot.product_name or request.product_id
    count = shoot.total or request.count
    date = shoot.created_at.astimezone().strftime("%Y-%m-%d")
    parts = [f"Shoot: {product}, {_plural(count, 'image')}, {date}"]
    for word, value in (
        ("model", request.model_id),
        ("scenery", request.scenery_id),
        ("preset", request.preset_id),
    ):
        if value:
            parts.append(f"{word} {named.get(value, value)}")
    if request.industry:
        parts.append(f"industry {request.industry}")
    if request.suggestions:
        parts.append(f"direction: {request.suggestions}")
    return "; ".join(parts)


def avoid_direction(reasons: Iterable[RejectReason]) -> str:
    """ "Avoid: garbled text or logo on the product; wrong side or view." from the reasons of
    the rejects (each counted as often as it was given), most frequent first, ties in the order
    of `RejectReason`; "other" says nothing to avoid. "" when nothing is left."""
    counts = Counter(r for r in reasons if r is not RejectReason.OTHER)
    if not counts:
        return ""
    order = list(RejectReason)
    ranked = sorted(counts, key=lambda r: (-counts[r], order.index(r)))
    return "Avoid: " + "; ".join(REASON_TEXT[r] for r in ranked) + "."


def rejects_of(shoot: Shoot, reviews: Mapping[str, Review]) -> list[Review]:
    """The reviews of the shoot's images that are rejects."""
    return [
        review
        for image_id in shoot.record_ids
        if (review := reviews.get(image_id)) is not None and review.flag is Flag.REJECT
    ]


def regenerate_request(shoot: Shoot, reviews: Mapping[str, Review]) -> ShootRequest | None:
    """The shoot's request for as many images as were rejected (at most `MAX_COUNT`), the
    rejects' reasons appended to its suggestions as a line to avoid; None without rejects."""
    rejects = rejects_of(shoot, reviews)
    if not rejects:
        return None
    request = shoot.request
    avoid = avoid_direction(r for review in rejects for r in review.reasons)
    suggestions = "\n".join(s for s in (request.suggestions, avoid) if s) or None
    return replace(request, count=min(len(rejects), MAX_COUNT), suggestions=suggestions)
