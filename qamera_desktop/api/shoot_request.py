"""`ShootRequest`: what the New shoot dialog asks for, validated before anything is sent.

The body of POST /image-picker/register-ideas is built by `to_body()`; optional fields that are
None or blank are left out of it (never sent as null or ""). `from_body()` reads such a body back
(the "Run again" action).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .errors import ValidationError

MIN_COUNT = 1
MAX_COUNT = 20
DEFAULT_COUNT = 10

_REFERENCES = (("model", "model_id"), ("scenery", "scenery_id"), ("preset", "preset_id"))
_OPTIONAL_TEXT = ("industry", "suggestions")
_LABELS = {
    "product_id": "product id",
    "model_id": "model id",
    "scenery_id": "scenery id",
    "preset_id": "preset id",
    "industry": "industry",
    "suggestions": "suggestions",
}


def _optional(value: object, field: str, problems: list[str]) -> str | None:
    """Stripped text, None for None or blank; a problem noted for any other type."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"the {_LABELS[field]} must be text")
        return None
    return value.strip() or None


@dataclass(frozen=True, slots=True)
class ShootRequest:
    """One photo shoot to register: a product, optional model / scenery / preset, 1 to 20 images."""

    product_id: str
    model_id: str | None = None
    scenery_id: str | None = None
    preset_id: str | None = None
    industry: str | None = None
    suggestions: str | None = None
    count: int = DEFAULT_COUNT

    def validate(self) -> ShootRequest:
        """The same request with strings stripped and blanks turned into None.

        Raises `ValidationError` listing every problem in one readable sentence.
        """
        problems: list[str] = []
        product_id: object = self.product_id
        if not isinstance(product_id, str) or not product_id.strip():
            problems.append("choose a product (its id is required)")
            product = ""
        else:
            product = product_id.strip()
        model_id = _optional(self.model_id, "model_id", problems)
        scenery_id = _optional(self.scenery_id, "scenery_id", problems)
        preset_id = _optional(self.preset_id, "preset_id", problems)
        industry = _optional(self.industry, "industry", problems)
        suggestions = _optional(self.suggestions, "suggestions", problems)
        count: object = self.count
        if isinstance(count, bool) or not isinstance(count, int):
            problems.append(
                f"the number of images must be a whole number from {MIN_COUNT} to {MAX_COUNT}"
            )
        elif not MIN_COUNT <= count <= MAX_COUNT:
            problems.append(
                f"the number of images must be from {MIN_COUNT} to {MAX_COUNT}, not {count}"
            )
        if problems:
            text = "; ".join(problems)
            raise ValidationError(f"The shoot cannot be started: {text}.")
        return replace(
            self,
            product_id=product,
            model_id=model_id,
            scenery_id=scenery_id,
            preset_id=preset_id,
            industry=industry,
            suggestions=suggestions,
        )

    def to_body(self) -> dict[str, object]:
        """The JSON body of register-ideas (validates first)."""
        request = self.validate()
        config: dict[str, object] = {"product": {"id": request.product_id}}
        for key, attribute in _REFERENCES:
            value = getattr(request, attribute)
            if value is not None:
                config[key] = {"id": value}
        for key in _OPTIONAL_TEXT:
            value = getattr(request, key)
            if value is not None:
                config[key] = value
        return {"config": config, "count": request.count}

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> ShootRequest:
        """Read a register-ideas body back; a missing count is the server's default (10).

        Raises `ValidationError` when the body is not that shape or the request it holds is invalid.
        """
        if not isinstance(body, Mapping):
            raise ValidationError("The saved shoot is not a JSON object.")
        config = body.get("config")
        if not isinstance(config, Mapping):
            raise ValidationError("The saved shoot has no 'config' object.")

        def reference(key: str) -> object:
            value = config.get(key)
            if value is None:
                return None
            if not isinstance(value, Mapping):
                raise ValidationError(f"In the saved shoot, 'config.{key}' is not an object.")
            return value.get("id")

        count = body.get("count")
        fields: dict[str, object] = {
            "product_id": reference("product"),
            **{attribute: reference(key) for key, attribute in _REFERENCES},
            **{key: config.get(key) for key in _OPTIONAL_TEXT},
            "count": DEFAULT_COUNT if count is None else count,
        }
        # The types are checked by validate(), which reports every problem at once.
        return cls(**fields).validate()  # type: ignore[arg-type]
