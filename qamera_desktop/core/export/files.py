"""Files that appear only complete: written to `<name>.part`, flushed to disk, then renamed.

A kill at any moment leaves either no file under the final name or the whole file (os.replace is
atomic on every OS), at worst a `.part` file that the next write of that name replaces. Blocking
calls: run them in a worker thread (`asyncio.to_thread`) from a loop that has other work.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

PART_SUFFIX: Final = ".part"
_WRITE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def part_path(path: Path) -> Path:
    """Where `path` is written before it is complete: "x.jpg" -> "x.jpg.part"."""
    return path.with_name(path.name + PART_SUFFIX)


def write_atomically(path: Path, data: bytes) -> None:
    """`data` under `path`, complete or not at all (see the module docstring). Plain `os` calls:
    an export writes hundreds of files, and the file objects of `open()` cost more than the
    write itself."""
    part = part_path(path)
    try:
        fd = os.open(part, _WRITE_FLAGS, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the first error is the one to report
            part.unlink(missing_ok=True)
        raise


async def in_thread_to_the_end[T](func: Callable[..., T], *args: object) -> T:
    """`func(*args)` in a worker thread (the loop's default executor), awaited to its end even
    when the caller is cancelled meanwhile, and only then CancelledError: a file being renamed
    into place is never cleaned up under the thread's feet.

    A bare executor future, not `asyncio.to_thread` in a task: this runs once per exported file,
    and the task, the coroutine and the context copy cost more CPU than the write of a small
    file to the page cache."""
    future = asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args))
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait((future,))  # unlike awaiting it, wait() never cancels the future
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return future.result()
