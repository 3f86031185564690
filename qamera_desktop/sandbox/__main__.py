"""`python -m qamera_desktop.sandbox`: run the Qamera-compatible sandbox on its own.

The first line printed, once it listens, holds the base URL and the demo key:

    Qamera sandbox listening on http://127.0.0.1:8765 with demo key mk_live_demo.sandbox

It runs until SIGINT or SIGTERM, then stops cleanly; unfinished images resume at the next start.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from qamera_desktop.sandbox.config import SandboxConfig
from qamera_desktop.sandbox.keys import DEMO_API_KEY, EXAMPLE_API_KEY, READONLY_API_KEY
from qamera_desktop.sandbox.server import start_sandbox

DEFAULT_PORT = 8765


def default_data_dir() -> Path:
    """The platform's per-user data folder, `.../qamera-desktop/sandbox`."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "qamera-desktop" / "sandbox"


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = SandboxConfig()
    p = argparse.ArgumentParser(
        prog="python -m qamera_desktop.sandbox",
        description="A Qamera-compatible API server with demo data, for running Qamera Desktop "
        "with no account and no network, and for tests.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_non_negative_int,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free port (default {DEFAULT_PORT})",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where the database and rendered images live (default {default_data_dir()})",
    )
    p.add_argument("--fast", action="store_true", help="near-instant processing, for tests")
    p.add_argument(
        "--processing-seconds",
        type=_non_negative_float,
        default=None,
        metavar="S",
        help=f"time per image (default {defaults.processing_seconds}; overrides --fast)",
    )
    p.add_argument(
        "--failure-rate",
        type=_fraction,
        default=defaults.failure_rate,
        metavar="F",
        help=f"fraction of images that fail, 0..1 (default {defaults.failure_rate})",
    )
    p.add_argument(
        "--error-rate",
        type=_fraction,
        default=defaults.error_rate,
        metavar="F",
        help="fraction of API requests answered with a random 500, 0..1 (default 0)",
    )
    p.add_argument(
        "--latency-ms",
        type=_non_negative_int,
        default=defaults.latency_ms,
        metavar="N",
        help="delay added before every API request is handled (default 0)",
    )
    p.add_argument(
        "--cdn-latency-ms",
        type=_non_negative_int,
        default=defaults.cdn_latency_ms,
        metavar="N",
        help="delay added before every thumbnail CDN request is answered (default 0)",
    )
    p.add_argument(
        "--no-rate-limit", action="store_true", help="do not enforce 60 requests a minute per key"
    )
    p.add_argument(
        "--credits",
        type=_non_negative_int,
        default=defaults.credits,
        metavar="N",
        help="starting balance of each account in a new data directory "
        f"(default {defaults.credits})",
    )
    p.add_argument(
        "--seed-images",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="keep at least N extra finished images in the demo account (scale tests)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every job")
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    explicit = args.processing_seconds is not None
    return SandboxConfig(
        processing_seconds=args.processing_seconds
        if explicit
        else SandboxConfig().processing_seconds,
        fast=args.fast and not explicit,
        failure_rate=args.failure_rate,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        cdn_latency_ms=args.cdn_latency_ms,
        rate_limit=not args.no_rate_limit,
        credits=args.credits,
        seed_images=args.seed_images,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    data_dir: Path = args.data_dir or default_data_dir()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sandbox = start_sandbox(data_dir, config_from_args(args), host=args.host, port=args.port)
    except OSError as exc:
        print(f"Cannot start the sandbox on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with sandbox:
        print(
            f"Qamera sandbox listening on {sandbox.base_url} with demo key {DEMO_API_KEY}",
            flush=True,
        )
        print(
            f"Also accepted: {EXAMPLE_API_KEY} (documentation example), {READONLY_API_KEY} "
            f"(read-only). Data: {data_dir}. Stop with Ctrl+C.",
            flush=True,
        )
        while not stop.wait(0.5):
            if not sandbox.running:
                print("The sandbox stopped unexpectedly.", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
