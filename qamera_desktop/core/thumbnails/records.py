"""The values the thumbnail pipeline passes around: keys, decoded pixels, decode errors."""

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
    def stride(self) -> int:
        """Bytes per row (no padding)."""
        return self.width * 3


class ThumbnailError(Exception):
    """Bytes that are no usable image; `str(error)` is a short readable reason."""
