"""Files that appear only complete: written to `<name>.part`, flushed to disk, then renamed.

A kill at any moment leaves either no file under the final name or the whole file (os.replace is
atomic on every OS), at worst a `.part` file that the next write of that name replaces. Blocking
calls: run them in a worker thread (`asyncio.to_thread`) from a loop that has other work.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

PART_SUFFIX: Final = ".part"


def part_path(path: Path) -> Path:
    """Where `path` is written before it is complete: "x.jpg" -> "x.jpg.part"."""
    return path.with_name(path.name + PART_SUFFIX)


def write_atomically(path: Path, data: bytes) -> None:
    """`data` under `path`, complete or not at all (see the module docstring)."""
    part = part_path(path)
    try:
        with part.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


async def in_thread_to_the_end[T](func: Callable[..., T], *args: object) -> T:
    """`func(*args)` in a worker thread, awaited to its end even when the caller is cancelled
    meanwhile (then CancelledError follows once it ended): a file being renamed into place is
    never cleaned up under the thread's feet, and what the thread finished is known."""
    task = asyncio.ensure_future(asyncio.to_thread(func, *args))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True  # the caller's cancellation (or the task's own, seen below)
        except Exception:  # noqa: S110 - the task's own failure, raised by result() below
            pass
    if cancelled:
        raise asyncio.CancelledError
    return task.result()
