"""`qamera-desktop export`: the designer's images into a folder, with no window at all.

    qamera-desktop export --to DIR [--filter picks|rejects|reviewed|all] [--product ID]
                          [--demo] [--api-url URL] [--data-dir DIR]

The same export as the window's (core/export), on the decisions the window stored: the same
database and account id as the app uses for the same data folder and key (the demo sandbox's
account with --demo). Prints a progress line now and then and a summary; each failed image goes
to stderr with its reason. Exit status: 0 when every selected image is in the folder, 1 when
some failed (or the listing could not be read), 2 for a usage error (bad arguments, no API key
without --demo, a --to that is a file, a key the server refuses), 130 after Ctrl+C (the export
stops cleanly, keeps what is complete and writes its manifest; running it again resumes).

No Qt is imported here: it runs where no display exists.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

from qamera_desktop.api import AuthError, ForbiddenError, QameraClient
from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.records import Image, Product
from qamera_desktop.core.account import account_id, sandbox_account_id
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.database import DatabaseError
from qamera_desktop.core.export.exporter import (
    ExportProgress,
    ExportResult,
    ExportScope,
    export_images,
    export_items,
    in_scope,
    product_index,
    select_images,
)
from qamera_desktop.core.export.local_state import LocalState, read_local_state
from qamera_desktop.core.log_setup import configure_console_logging
from qamera_desktop.core.profiles import (
    DEMO_PROFILE,
    Profile,
    ProfileStore,
    choose_profile,
    profile_paths,
)
from qamera_desktop.core.review import BLANK
from qamera_desktop.launch_options import API_KEY_ENV, API_URL_ENV

if TYPE_CHECKING:
    from qamera_desktop.sandbox import SandboxHandle

PROG: Final = "qamera-desktop export"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130  # 128 + SIGINT, what shells report for Ctrl+C
PRINT_INTERVAL: Final = 0.5
"""Seconds between progress lines: a terminal or a log wants a few lines, not 20 a second."""


class UsageError(Exception):
    """A problem with what was asked (exit status 2), with the sentence to print."""


class Interrupted(Exception):
    """Ctrl+C before the export itself began."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Download the images you reviewed in Qamera Desktop into a folder, with your "
            "decision in each file's XMP (rating, colour label) and a manifest.csv/.json "
            "listing every image. Exporting again into the same folder resumes: files already "
            "there are kept."
        ),
    )
    parser.add_argument("--to", metavar="DIR", type=Path, required=True, help="the folder")
    parser.add_argument(
        "--filter",
        choices=[scope.value for scope in ExportScope],
        default=ExportScope.PICKS.value,
        help="which images: your picks (default), your rejects, every image you decided "
        "(flag, stars or label), or all of them; only finished images have files",
    )
    parser.add_argument("--product", metavar="ID", help="only the images of this product")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="the demo sandbox of the data folder, and the decisions made on it",
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        default=os.environ.get(API_URL_ENV),
        help=f"the account at this Qamera API base URL (default: the app's last account; env "
        f"${API_URL_ENV}); the key comes from ${API_KEY_ENV} or the keyring, never from here",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="the app's data folder, where your decisions are (default: the platform's)",
    )
    return parser


def export_main(argv: Sequence[str]) -> int:
    """The `export` subcommand; its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # SystemExit(2) with the usage on a bad argument
    if args.to.exists() and not args.to.is_dir():
        parser.error(f"--to {args.to} is a file, not a folder")
    configure_console_logging()  # stderr at $QAMERA_LOG_LEVEL, through the redaction filter
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, _on_interrupt(cancel))
    try:
        return asyncio.run(_export(args, cancel))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (Interrupted, KeyboardInterrupt):
        print("Interrupted: nothing was exported.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)


def _on_interrupt(cancel: threading.Event) -> Callable[[int, FrameType | None], None]:
    """The first Ctrl+C asks the export to stop cleanly; a second one stops at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    return handler


@dataclass(frozen=True, slots=True)
class _Account:
    api_url: str
    key: str
    account: str  # the id the app keys this account's decisions by
    description: str
    database_file: Path  # the profile's database, where the app keeps those decisions


async def _export(args: argparse.Namespace, cancel: threading.Event) -> int:
    paths = AppPaths.resolve(args.data_dir)
    sandbox: SandboxHandle | None = None
    try:
        profile = DEMO_PROFILE if args.demo else _configured_profile(args.api_url, paths)
        if profile.is_demo:
            sandbox = await _start_sandbox(paths)
            account = _Account(
                sandbox.base_url,
                sandbox.demo_key,
                sandbox_account_id(paths.sandbox_dir, sandbox.demo_key),
                f"the demo sandbox of {paths.data_dir}",
                paths.database_file,
            )
        else:
            account = await _account_of(profile, paths)
        return await _export_account(args, paths, account, cancel)
    finally:
        if sandbox is not None:
            await asyncio.to_thread(sandbox.stop)


async def _start_sandbox(paths: AppPaths) -> SandboxHandle:
    """The data folder's demo sandbox, as the app starts it (ui/app_controller.py)."""
    from qamera_desktop.sandbox import SandboxConfig, start_sandbox

    return await asyncio.to_thread(start_sandbox, paths.sandbox_dir, SandboxConfig())


def _configured_profile(api_url: str | None, paths: AppPaths) -> Profile:
    """The profile the app would open (core/profiles.choose_profile): the account at --api-url,
    or with ${API_KEY_ENV} the one at the default server, else the app's last used."""
    try:
        profile = choose_profile(
            ProfileStore(paths),
            demo=False,
            api_url=api_url,
            environment_key=bool(os.environ.get(API_KEY_ENV, "").strip()),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if profile is not None and profile.is_demo:  # explicit, in a script: --demo
        raise UsageError(
            f"no Qamera account is connected in the app: connect one (File → Connect your "
            f"Qamera account…) or set ${API_KEY_ENV}; --demo exports from the demo sandbox"
        )
    if profile is None:
        raise UsageError(
            f"no account at {api_url}: connect it in the app (File → Connect your Qamera "
            f"account…) or set ${API_KEY_ENV}; --demo exports from the demo sandbox"
        )
    return profile


async def _account_of(profile: Profile, paths: AppPaths) -> _Account:
    """The account's key from the key store (the environment first), the app's account id."""
    from qamera_desktop.core.key_store import KeyStore  # the keyring: only when needed

    assert profile.base_url is not None
    keys = await asyncio.to_thread(KeyStore, paths.data_dir)
    loaded = await asyncio.to_thread(keys.load, profile.id)
    if loaded is None:
        raise UsageError(
            f"no API key is stored for “{profile.name}” ({profile.base_url}): connect it in "
            f"the app, or set ${API_KEY_ENV}"
        )
    url, key = profile.base_url, loaded.key.reveal()
    database = profile_paths(paths, profile.id).database_file
    return _Account(url, key, account_id(url, key), f"{profile.name} ({url})", database)


async def _export_account(
    args: argparse.Namespace, paths: AppPaths, account: _Account, cancel: threading.Event
) -> int:
    scope = ExportScope(args.filter)
    try:
        client = QameraClient(account.api_url, account.key)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    async with client:
        try:
            images, products = await _unless_cancelled(_listing(client, args.product), cancel)
            local = await asyncio.to_thread(
                read_local_state, account.database_file, account.account
            )
        except (AuthError, ForbiddenError) as exc:
            raise UsageError(f"{account.description} refused the key: {exc}") from None
        except ApiError as exc:
            print(
                f"{PROG}: cannot list the images of {account.description}: {exc}", file=sys.stderr
            )
            return EXIT_FAILED
        except DatabaseError as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    selected = select_images(images, local.reviews, scope)
    _say_what_is_exported(scope, images, selected, local, paths)
    items = export_items(selected, local.reviews, products, local.shoots)
    started = time.monotonic()
    result = await export_images(items, args.to, progress=_Printer(), cancel=cancel)
    return _summary(result, time.monotonic() - started)


async def _listing(
    client: QameraClient, product_id: str | None
) -> tuple[list[Image], dict[str, Product]]:
    """The images (of one product, or all) and image id -> product."""
    if product_id is None:
        images = await client.list_images()
        return images, await product_index(client)
    product = next((p for p in await client.list_products() if p.id == product_id), None)
    if product is None:
        raise UsageError(f"there is no product {product_id!r} (the product ids are in the app)")
    images = await client.list_images(product_id=product_id)
    return images, {image.id: product for image in images}


async def _unless_cancelled[T](work: Awaitable[T], cancel: threading.Event) -> T:
    """`work`, stopped by a Ctrl+C (`cancel`) before the export's own handling takes over."""
    task = asyncio.ensure_future(work)
    while not task.done():
        if cancel.is_set():
            task.cancel()
            raise Interrupted
        await asyncio.wait([task], timeout=0.05)
    return task.result()


def _say_what_is_exported(
    scope: ExportScope,
    images: Sequence[Image],
    selected: Sequence[Image],
    local: LocalState,
    paths: AppPaths,
) -> None:
    if not local.found:
        print(f"No decisions found: {paths.database_file} does not exist yet.")
    unfinished = sum(
        1
        for image in {image.id: image for image in images}.values()
        if not image.is_done and in_scope(local.reviews.get(image.id, BLANK), scope)
    )
    what = _SCOPE_WORDS[scope]
    print(f"Exporting {len(selected):,} {what} of {_plural(len(images), 'image')} listed.")
    if unfinished:
        print(f"{unfinished:,} more {what} not finished (generating or failed): no file to export.")


_SCOPE_WORDS: Final = {
    ExportScope.PICKS: "picks",
    ExportScope.REJECTS: "rejects",
    ExportScope.REVIEWED: "reviewed images",
    ExportScope.ALL: "images",
}


class _Printer:
    """Progress lines, at most every PRINT_INTERVAL seconds (and the last one)."""

    def __init__(self) -> None:
        self._printed_at = float("-inf")

    def __call__(self, progress: ExportProgress) -> None:
        now = time.monotonic()
        if progress.done < progress.total and now - self._printed_at < PRINT_INTERVAL:
            return
        self._printed_at = now
        print(
            f"{progress.done}/{progress.total} done: {progress.written} written, "
            f"{progress.skipped} already there, {progress.failed} failed "
            f"({_megabytes(progress.bytes_written)})",
            flush=True,
        )


def _summary(result: ExportResult, seconds: float) -> int:
    for failure in result.failures:
        image = failure.item.image
        print(f"failed: {image.name or image.id} ({image.id}): {failure.reason}", file=sys.stderr)
    written, skipped, failed = len(result.written), len(result.skipped), len(result.failures)
    state = "Cancelled" if result.cancelled else "Done"
    print(
        f"{state} in {seconds:.1f} s: {written} written, {skipped} already there, "
        f"{failed} failed, into {result.folder}"
    )
    print(f"Manifest: {result.manifest_csv} and {result.manifest_json.name}")
    if result.cancelled:
        print("Run the same command again to export the rest.")
        return EXIT_INTERRUPTED
    return EXIT_OK if not result.failures else EXIT_FAILED


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n:,} {word}s"
