"""Check a frozen build the way a designer runs it, on any OS (the release workflow runs this on
Linux, Windows and macOS; tests/packaging reuses its pieces on the installed .deb):

    python packaging/check_frozen.py PATH/TO/qamera-desktop[.exe] [--version X.Y.Z] [--user-data]
                                     [--cli PATH/TO/qamera-desktop-cli.exe]

- `--version` prints the version given (the one of qamera_desktop/__init__.py);
- `--self-test` passes offscreen: sandbox started, listing, thumbnails painted, a 3-image shoot;
  and the thumbnails came from the worker process (`--thumbnail-worker`): the app logs a
  fallback to loading in its own process when the worker cannot start or dies, and there is none;
- `export` (headless, no Qt) writes every finished image of a fresh demo sandbox and the
  manifest (with `--cli`, Windows' console executable runs it);
- with `--user-data`: a demo run with no --data-dir until the first thumbnails are painted
  writes the library into the user's data folder (core/app_paths.py) and nothing into the
  installation. This run uses the real user folders: for CI machines and throwaway accounts.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WORKER_FLAG = "--thumbnail-worker"  # qamera_desktop.THUMBNAIL_WORKER_FLAG
# worker_process.py logs this when thumbnails load in the app's own process instead
FALLBACK_MESSAGE = "loading in the app"
TIMEOUT_S = 180.0


@dataclass(frozen=True)
class AppRun:
    returncode: int
    stdout: str
    stderr: str
    # the command lines of the thumbnail workers it started (Linux: read from /proc);
    # None where they cannot be observed without extra packages
    workers: list[list[str]] | None


def app_env(**changes: str) -> dict[str, str]:
    """The environment of a designer's first run: no API key (the demo sandbox), no keyring,
    offscreen unless a display is given, and INFO logs (the worker fallback is logged)."""
    env = {k: v for k, v in os.environ.items() if k != "QAMERA_API_KEY"}
    env.update({"QAMERA_NO_KEYRING": "1", "QAMERA_LOG_LEVEL": "INFO"})
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(changes)
    return env


def _worker_processes(parent: int) -> list[list[str]]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = re.search(r"^PPid:\s+(\d+)", status.read_text(), re.MULTILINE)
            cmdline = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # it ended meanwhile
        if ppid and int(ppid.group(1)) == parent and WORKER_FLAG.encode() in cmdline:
            found.append([part.decode() for part in cmdline if part])
    return found


def run_app(command: list[str], env: dict[str, str], timeout: float = TIMEOUT_S) -> AppRun:
    """Run the app to its end, noting the thumbnail workers it starts while it runs."""
    observable = Path("/proc/self/status").exists()
    seen: list[list[str]] = []
    with subprocess.Popen(  # noqa: S603 - the build under test
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        done = threading.Event()

        def watch() -> None:
            while observable and not done.is_set():
                seen.extend(w for w in _worker_processes(process.pid) if w not in seen)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finally:
            done.set()
            watcher.join()
    return AppRun(process.returncode, stdout, stderr, seen if observable else None)


def self_test_problems(run: AppRun, executable: Path) -> list[str]:
    """What is wrong with a `--self-test` run of the frozen executable (nothing: [])."""
    problems = []
    if run.returncode != 0 or not run.stdout.startswith("self-test ok:"):
        problems.append(f"self-test failed (exit status {run.returncode}): {run.stdout.strip()}")
    if FALLBACK_MESSAGE in run.stderr:
        problems.append("the thumbnail worker did not run: thumbnails loaded in the app")
    if run.workers is not None:
        if not run.workers:
            problems.append("no thumbnail worker process was seen")
        elif any(w[:2] != [str(executable), WORKER_FLAG] for w in run.workers):
            problems.append(f"a worker started otherwise than as the executable: {run.workers}")
    return problems


def file_states(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its size and modification time: what a run must not change."""
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in root.rglob("*")
    }


def installation_dir(executable: Path) -> Path:
    """The folder the installer wrote: the executable's, or the whole .app on macOS."""
    app = next((p for p in executable.parents if p.suffix == ".app"), None)
    return app or executable.parent


def user_data_problems(
    run: AppRun, data_dir: Path, before: dict[str, tuple[int, int]], install_dir: Path
) -> list[str]:
    """What is wrong after a demo run with no --data-dir (nothing: [])."""
    problems = []
    if run.returncode != 0 or "trace thumbnails-painted" not in run.stdout:
        problems.append(f"the demo run did not paint thumbnails (exit {run.returncode})")
    if not (data_dir / "library.sqlite3").is_file():
        problems.append(f"no library in the user's data folder {data_dir}")
    changed = set(file_states(install_dir).items()) ^ set(before.items())
    if changed:
        names = sorted({name for name, _ in changed})[:10]
        problems.append(f"the run wrote into the installation {install_dir}: {names}")
    return problems


def export_problems(command: Path, work: Path) -> list[str]:
    """What is wrong with a headless `export` (no window, no Qt) of every finished image of a
    fresh demo sandbox into work/ (nothing: [])."""
    out = work / "export"
    run = run_app(
        [
            str(command),
            "export",
            "--demo",
            "--filter",
            "all",
            "--to",
            str(out),
            "--data-dir",
            str(work / "data"),
        ],
        app_env(),
    )
    if run.returncode != 0:
        return [f"export failed (exit status {run.returncode}): {run.stderr.strip()[-2000:]}"]
    problems = []
    if not (out / "manifest.csv").is_file():
        problems.append(f"export wrote no manifest.csv into {out}")
    if not any(out.glob("*.jpg")):
        problems.append(f"export wrote no image into {out}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executable", type=Path)
    parser.add_argument("--version", help="the version --version must print")
    parser.add_argument("--user-data", action="store_true", help="also check the data folders")
    parser.add_argument(
        "--cli", type=Path, help="the executable for `export` (default: the one checked)"
    )
    args = parser.parse_args()
    executable = args.executable.resolve()
    problems: list[str] = []
    if args.version:
        shown = run_app([str(executable), "--version"], app_env(), timeout=60)
        if shown.stdout.split() != ["qamera-desktop", args.version]:
            problems.append(f"--version printed {shown.stdout.strip()!r}, not {args.version}")
    run = run_app([str(executable), "--self-test"], app_env())
    print(run.stdout.strip())
    problems += self_test_problems(run, executable)
    with tempfile.TemporaryDirectory(prefix="qamera-check-") as work:
        problems += export_problems((args.cli or executable).resolve(), Path(work))
    if args.user_data:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from qamera_desktop.core.app_paths import AppPaths  # the frozen app's own rule

        install_dir = installation_dir(executable)
        before = file_states(install_dir)
        demo = run_app(
            [str(executable), "--demo"], app_env(QAMERA_STARTUP_TRACE="exit"), timeout=TIMEOUT_S
        )
        problems += user_data_problems(demo, AppPaths.resolve().data_dir, before, install_dir)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if problems:
        print(run.stderr[-4000:], file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
