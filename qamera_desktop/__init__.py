"""Qamera Desktop: run and review Qamera AI product photo shoots natively."""

__version__ = "0.1.0"

# The command-line flag with which the app starts its own thumbnail worker process (frozen or
# not). Here, so that the CLI and core/thumbnails share it without importing each other.
THUMBNAIL_WORKER_FLAG = "--thumbnail-worker"
