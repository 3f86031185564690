"""Thumbnails for the image grid: download, decode and scale off the GUI thread, cache on disk.

`ThumbnailPipeline` does it in one process; `ProcessPipeline` (what the app uses, where it can)
runs one per disk cache shard in worker processes.

Qt-free: the UI turns `DecodedThumbnail.data` (RGB888) into a QImage / QPixmap on the GUI thread.
"""

from .decode import decode_thumbnail
from .pipeline import ThumbnailPipeline
from .records import DecodedThumbnail, PipelineStats, ThumbnailError, ThumbnailKey

__all__ = [
    "DecodedThumbnail",
    "PipelineStats",
    "ThumbnailError",
    "ThumbnailKey",
    "ThumbnailPipeline",
    "decode_thumbnail",
]
