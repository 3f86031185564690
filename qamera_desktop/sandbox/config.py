"""Settings of the sandbox: what a run looks like and the fault knobs that tests turn.

`SandboxConfig` is frozen; the running server keeps the current one in a `ConfigHolder` and
`SandboxHandle.reconfigure()` swaps in a modified copy, so a request or a worker step always sees
one consistent set of knobs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

FAST_PROCESSING_SECONDS = 0.05
"""Processing time per image in `fast` mode."""

RUNTIME_KNOBS = frozenset(
    {
        "error_rate",
        "latency_ms",
        "cdn_latency_ms",
        "failure_rate",
        "processing_seconds",
        "fast",
        "rate_limit",
    }
)
"""The fields `reconfigure()` may change while the server runs."""


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How the sandbox behaves. All rates are fractions in 0..1."""

    processing_seconds: float = 4.0
    """Time the worker spends on each image (ignored in `fast` mode)."""
    fast: bool = False
    """Near-instant processing (`FAST_PROCESSING_SECONDS` per image), for tests."""
    failure_rate: float = 0.05
    """Fraction of images the worker fails (their credits are refunded)."""
    error_rate: float = 0.0
    """Fraction of API requests answered with a random 500."""
    latency_ms: int = 0
    """Delay added to every API request before its handler runs (not to thumbnails)."""
    cdn_latency_ms: int = 0
    """Delay added to every thumbnail CDN request: a CDN across the internet answers in tens of
    milliseconds, not at once as on loopback."""
    rate_limit: bool = True
    """Enforce `rate_limit_per_minute` per key (sliding window)."""
    credits: int = 500
    """Starting balance of each account in a new data directory."""
    seed_images: int = 0
    """Extra finished images in the demo account (kept at least this many, across restarts)."""
    extra_demo_keys: tuple[str, ...] = ()
    """More keys that open the demo account with both scopes, held in memory only (never written
    to the data folder): a test's own recognisable key, searched for afterwards in every file the
    app wrote, where the demo key's secret part ("sandbox") is a common word."""
    rate_limit_per_minute: int = 60
    rate_limit_window_seconds: float = 60.0
    price_per_image: int = 3
    """Credits reserved per requested image."""
    worker_concurrency: int = 4
    """Images processed at the same time."""
    render_threads: int = 2
    """Threads rendering JPEGs (Pillow releases the GIL while encoding)."""

    def __post_init__(self) -> None:
        for name in ("failure_rate", "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {value!r}")
        if self.processing_seconds < 0:
            raise ValueError("processing_seconds must not be negative")
        if self.latency_ms < 0 or self.cdn_latency_ms < 0:
            raise ValueError("latency_ms and cdn_latency_ms must not be negative")
        if self.credits < 0 or self.seed_images < 0:
            raise ValueError("credits and seed_images must not be negative")
        if self.rate_limit_per_minute < 1 or self.rate_limit_window_seconds <= 0:
            raise ValueError("the rate limit needs a positive budget and window")
        if self.price_per_image < 1:
            raise ValueError("price_per_image must be positive")
        if self.worker_concurrency < 1 or self.render_threads < 1:
            raise ValueError("worker_concurrency and render_threads must be at least 1")

    @property
    def effective_processing_seconds(self) -> float:
        return FAST_PROCESSING_SECONDS if self.fast else self.processing_seconds


class ConfigHolder:
    """The current configuration of a running sandbox; readers take `.current` once per step."""

    def __init__(self, config: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self._current = config

    @property
    def current(self) -> SandboxConfig:
        return self._current

    def reconfigure(self, **changes: Any) -> SandboxConfig:
        """Change runtime knobs. Setting `processing_seconds` alone also leaves fast mode."""
        unknown = set(changes) - RUNTIME_KNOBS
        if unknown:
            known = ", ".join(sorted(RUNTIME_KNOBS))
            raise TypeError(f"cannot reconfigure {', '.join(sorted(unknown))} (only {known})")
        if "processing_seconds" in changes and "fast" not in changes:
            changes["fast"] = False
        with self._lock:
            self._current = replace(self._current, **changes)
            return self._current
