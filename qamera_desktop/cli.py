"""Command line of `qamera-desktop`. Parses arguments without importing Qt, so --help is instant.

`qamera-desktop export ...` is a subcommand of its own (export_command.py, no Qt at all),
dispatched before the app's options are parsed, as the app's internal thumbnail worker flag is.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qamera_desktop import THUMBNAIL_WORKER_FLAG, __version__
from qamera_desktop.launch_options import (
    API_KEY_ENV,
    API_URL_ENV,
    DEFAULT_API_URL,
    LaunchOptions,
)

EXPORT_COMMAND = "export"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qamera-desktop",
        description=(
            "Qamera Desktop: review and run Qamera AI product photo shoots. With no API key "
            f"configured (${API_KEY_ENV} or Settings) it runs on the built-in demo sandbox."
        ),
        epilog=(
            f"Headless export: qamera-desktop {EXPORT_COMMAND} --to DIR [--filter picks|rejects|"
            f"reviewed|all] ... downloads the images you reviewed, with no window "
            f"(qamera-desktop {EXPORT_COMMAND} --help)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on the embedded demo sandbox (no account, no network), even if a key is set",
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        default=os.environ.get(API_URL_ENV),
        help=f"Qamera API base URL (default {DEFAULT_API_URL}; env ${API_URL_ENV}); "
        f"the key comes from ${API_KEY_ENV} or the keyring, never from the command line",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="where the local database, thumbnail cache and demo sandbox live "
        "(default: the platform's app data folder)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the whole flow headless against a fresh sandbox, print a summary, exit 0 if good",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        type=Path,
        help="with --self-test: save a screenshot of the main window to this file",
    )
    parser.add_argument(
        "--sandbox-fast",
        action="store_true",
        help="demo sandbox processes shoots almost instantly (for demos and tests)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> LaunchOptions:
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.screenshot is not None and not ns.self_test:
        parser.error("--screenshot goes with --self-test")
    return LaunchOptions(
        demo=ns.demo,
        api_url=ns.api_url,
        data_dir=ns.data_dir,
        self_test=ns.self_test,
        screenshot=ns.screenshot,
        sandbox_fast=ns.sandbox_fast,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [THUMBNAIL_WORKER_FLAG]:  # the app starting its own thumbnail worker
        from qamera_desktop.core.thumbnails.worker_process import worker_main

        return worker_main()
    if args[:1] == [EXPORT_COMMAND]:  # the headless export: no window, no Qt
        from qamera_desktop.export_command import export_main

        return export_main(args[1:])
    options = parse_args(args)
    # no garbage collection until the window has painted (run_app freezes what the imports
    # made, and turns the collector back on after the first paint): what the start allocates
    # lives on, and scanning it again and again cost ~10 ms of a ~0.3 s start
    gc.disable()
    from qamera_desktop.app import run_app  # Qt is imported only past argument parsing

    return run_app(options)
