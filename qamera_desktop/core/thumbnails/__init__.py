"""Thumbnails for the image grid: download, decode and scale off the GUI thread, cache on disk.

`ThumbnailPipeline` schedules the loads on one asyncio loop; `ThumbnailThread` runs it on a
background thread of its own, and `ThumbnailProcess` runs that in a worker process, which is what
the app uses.

Qt-free: the UI turns `DecodedThumbnail.data` (RGB888) into a QImage / QPixmap on the GUI thread.
Nothing is imported here: the app's process imports the records and the worker's launcher, and
Pillow and the pipeline load only where thumbnails are made (the worker, or the in-app fallback).
"""
