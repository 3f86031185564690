"""The values the thumbnail pipeline passes around: keys, decoded pixels, errors, counters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ThumbnailKey:
    """One thumbnail: the image URL and the target longest edge in device pixels."""

    url: str
    size: int


@dataclass(frozen=True, slots=True)
class DecodedThumbnail:
    """Decoded pixels, RGB888 row-major with stride `width * 3` (QImage.Format_RGB888)."""

    width: int
    height: int
    data: bytes
    source_pixels: int = 0  # pixels of the image it was decoded from (0: unknown)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or len(self.data) != self.width * self.height * 3:
            msg = (
                f"RGB888 data of {len(self.data)} bytes does not match "
                f"{self.width}x{self.height} pixels"
            )
            raise ValueError(msg)

    @property
    def nbytes(self) -> int:
        """Memory held by the pixel data, for byte-bounded caches."""
        return len(self.data)

    @property
    def stride(self) -> int:
        """Bytes per row (no padding)."""
        return self.width * 3


class ThumbnailError(Exception):
    """A thumbnail could not be produced; `str(error)` is a short readable reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counters since the pipeline was created (the last two are current gauges)."""

    fetched: int = 0  # downloads completed
    decoded: int = 0  # thumbnails decoded (from the network or the disk cache)
    disk_hits: int = 0  # thumbnails served from the disk cache
    failed: int = 0  # loads reported through on_failed
    cancelled: int = 0  # loads dropped because their key was no longer wanted (or at close)
    bytes_downloaded: int = 0
    in_flight: int = 0  # jobs holding a download or decode slot right now
    queued: int = 0  # wanted keys waiting for a slot
