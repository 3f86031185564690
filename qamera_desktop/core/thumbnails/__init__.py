"""Thumbnails for the image grid: download, decode and scale off the GUI thread, cache on disk.

`ThumbnailPipeline` schedules the loads on one asyncio loop; `ThumbnailThread` runs it on a
background thread of its own, and `ThumbnailProcess` runs that in a worker process, which is what
the app uses.

Qt-free: the UI turns `DecodedThumbnail.data` (RGB888) into a QImage / QPixmap on the GUI thread.
"""

from .decode import decode_thumbnail
from .pipeline import ThumbnailPipeline
from .records import DecodedThumbnail, ThumbnailError, ThumbnailKey

__all__ = [
    "DecodedThumbnail",
    "ThumbnailError",
    "ThumbnailKey",
    "ThumbnailPipeline",
    "decode_thumbnail",
]
