"""Getting reviewed images out: files named for every OS, the decision as XMP, a manifest.

Qt-free. The engine is `exporter.export_images` (its module docstring says how it behaves);
`download_to` fetches one image into a file (a drag out of the window). The window and the
headless `qamera-desktop export` command both use these.
"""

from qamera_desktop.core.export.exporter import (
    DEFAULT_CONCURRENCY,
    ExportFailure,
    ExportItem,
    ExportProgress,
    ExportResult,
    ExportScope,
    download_to,
    export_images,
    export_items,
    in_scope,
    make_export_client,
    product_index,
    select_images,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ExportFailure",
    "ExportItem",
    "ExportProgress",
    "ExportResult",
    "ExportScope",
    "download_to",
    "export_images",
    "export_items",
    "in_scope",
    "make_export_client",
    "product_index",
    "select_images",
]
