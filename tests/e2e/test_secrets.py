"""No API key in anything the app writes: the real app, the real sandbox, a recognisable key.

The sandbox runs in this process (so that its fault knobs can be turned while the app runs) and
accepts two keys made for this test, each with a random secret (`recognisable_key`). Everything
the app, its thumbnail worker and the headless export write lands in one folder: their data
folder, and HOME, the XDG folders and TMPDIR pointed there. Then:

1. The app runs under Xvfb on the good key at `--api-url` (logging at DEBUG: the worst case), and
   is driven with xdotool: the grid, two picks, the loupe; a shoot that the server refuses with a
   500, submitted again from the same dialog once the server is well, tracked until it finishes;
   a refresh answered with a 500 (the retry then succeeds). Its thumbnail worker's environment
   (/proc/<pid>/environ) holds no key, and the worker logs into its own file beside the app's.
   Ctrl+Q ends it.
2. `qamera-desktop export` exports the picks with the same key, then is refused the wrong key.
3. The app runs again on the wrong key: the listing's 401, then, the sandbox stopped, a refresh
   that cannot connect. Ctrl+Q.

The files are searched while the app runs (a WAL, a `.part` file) and after each run, and the
captured stdout and stderr of every run too: for each key, whole and its secret part, as they
are, URL-encoded, in base64 (standard and URL-safe, at each of the three alignments a base64
stream can put them in) and in UTF-16 (Qt's strings), and for either random half of the secret
alone (a truncated or escaped key). A find fails the test with the file, the offset and the form.

The log file must hold every failed request at WARNING with its correlation id: as many as the
sandbox answered with an error during the app's runs, each one an id the sandbox sent.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from qamera_desktop.core.key_env import API_KEY_ENV
from qamera_desktop.core.key_store import KEY_FILE_NAME
from qamera_desktop.core.log_setup import LOG_FILE_NAME, WORKER_LOG_FILE_NAME
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.sandbox import app as sandbox_app
from tests.e2e.test_review_kill import _kill, _wait, _xdotool
from tests.e2e.test_self_test import app_env
from tests.sandbox_fixtures import make_sandbox_fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

sandbox_factory, sandbox = make_sandbox_fixtures()

APP = [sys.executable, "-m", "qamera_desktop"]
WORKER_FLAG = "--thumbnail-worker"
POST_SHOOT = "POST /api/external/image-picker/register-ideas"
GET_IMAGES = "GET /api/external/image-picker"
# the API client's line for every answer: "GET /path -> 500 in 3 ms, correlation id <id>"
ANSWER = re.compile(
    r" (?P<level>[A-Z]+) (?P<pid>\d+) qamera_desktop\.api: (?P<request>[A-Z]+ \S+) -> "
    r"(?P<status>\d{3}) in \d+ ms, correlation id (?P<id>\S+)$",
    re.MULTILINE,
)
UNREACHABLE = re.compile(
    r" WARNING \d+ qamera_desktop\.api: GET \S+ failed after \d+ ms \(Could not"
)


# -- the keys and their forms ------------------------------------------------------------------
def recognisable_key(key_id: str) -> str:
    """`mk_live_<id>.<secret>`: two random runs of 16 hex digits around `+/=`, characters that
    URL-encoding and base64 alphabets treat differently."""
    return f"mk_live_{key_id}.{secrets.token_hex(8)}+/={secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class Needle:
    form: str  # what was found, in words: never the key itself
    data: bytes


def _base64_cores(raw: bytes) -> Iterator[tuple[str, bytes]]:
    """The characters any base64 text holding `raw` must contain, at each alignment: the groups
    made of `raw`'s bytes only (the first and last may mix in the bytes around it)."""
    for shift in range(3):
        end = (shift + len(raw)) // 3 * 4
        start = 4 if shift else 0
        for name, encode in (
            ("base64", base64.b64encode),
            ("URL-safe base64", base64.urlsafe_b64encode),
        ):
            yield f"{name} at alignment {shift}", encode(b"\0" * shift + raw)[start:end]


def needles(key: str, label: str) -> list[Needle]:
    secret = key.partition(".")[2]
    found: list[Needle] = []
    for part, text in ((f"{label}, whole", key), (f"{label}'s secret part", secret)):
        raw = text.encode()
        found += [
            Needle(part, raw),
            Needle(f"{part}, URL-encoded", quote(text, safe="").encode()),
            Needle(f"{part}, UTF-16", text.encode("utf-16-le")),
            *(Needle(f"{part}, {form}", core) for form, core in _base64_cores(raw)),
        ]
    first, _, second = secret.partition("+/=")
    found += [Needle(f"{label}'s secret, first half", first.encode())]
    found += [Needle(f"{label}'s secret, second half", second.encode())]
    return found


def leaks(folders: Iterable[Path], search: list[Needle]) -> list[str]:
    """Every file under `folders` holding a needle: the file, the offset, the form, the bytes
    around it (with every needle in them masked: the report shows where, never the key)."""
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                data = path.read_bytes()
            except OSError:  # gone meanwhile (a WAL, a .part file): the app is running
                continue
            for needle in search:
                offset = data.find(needle.data)
                if offset >= 0:
                    end = offset + len(needle.data)
                    around = data[max(0, offset - 40) : offset] + b"<HERE>" + data[end : end + 40]
                    for other in search:
                        around = around.replace(other.data, b"<KEY>")
                    found.append(f"{path} at offset {offset}: {needle.form} ({around!r})")
    return found


def assert_no_leak(folders: Iterable[Path], search: list[Needle], when: str) -> None:
    found = leaks(folders, search)
    assert not found, f"a key was found {when}:\n" + "\n".join(found)


# -- the sandbox's correlation ids -------------------------------------------------------------
@pytest.fixture
def sent_ids(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every correlation id the sandbox (in this process) gives a response: it makes each one
    with `uuid.uuid4()`, seen here through its module's `uuid`."""
    sent: set[str] = set()

    def uuid4() -> uuid.UUID:
        made = uuid.uuid4()
        sent.add(str(made))
        return made

    monkeypatch.setattr(sandbox_app, "uuid", SimpleNamespace(uuid4=uuid4))
    return sent


def failures_answered(handle: SandboxHandle) -> int:
    return sum(n for status, n in handle.stats().by_status.items() if status >= 400)


# -- the app -----------------------------------------------------------------------------------
@dataclass
class Folders:
    """Where everything written by the app and the export goes."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def captured(self) -> Path:
        return self.root / "captured"

    @property
    def log_file(self) -> Path:
        return self.data / "logs" / LOG_FILE_NAME

    @property
    def worker_log_file(self) -> Path:
        return self.data / "logs" / WORKER_LOG_FILE_NAME

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def env(self, display: str, key: str, *, trace: bool = False) -> dict[str, str]:
        """The app's environment, every folder it may write to under `root`; with `trace`, it
        prints when its first thumbnails are painted (and then waits for them before anything
        else: Ctrl+Q too, so not on a key that shows none)."""
        home, tmp, run = self.root / "home", self.root / "tmp", self.root / "run"
        for folder in (home, tmp, run, self.captured):
            folder.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)
        return {
            **app_env(display, run),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "TMPDIR": str(tmp),
            API_KEY_ENV: key,
            "QAMERA_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
            **({"QAMERA_STARTUP_TRACE": "1"} if trace else {}),
        }

    def profile_database(self) -> Path:
        found = sorted((self.data / "profiles").glob("*/library.sqlite3"))
        assert len(found) == 1, f"one account profile expected: {found}"
        return found[0]


class App:
    """The app in a subprocess of its own process group, its output captured to files."""

    def __init__(self, folders: Folders, env: dict[str, str], api_url: str, name: str) -> None:
        self.env = env
        self.out = folders.captured / f"{name}.out"
        self.err = folders.captured / f"{name}.err"
        with self.out.open("w") as stdout, self.err.open("w") as stderr:
            self.proc = subprocess.Popen(
                [*APP, "--api-url", api_url, "--data-dir", str(folders.data)],
                env=env,
                stdout=stdout,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        self._xdotool = _xdotool()
        self.window = ""

    def wait(self, condition: Callable[[], object], what: str, timeout: float = 20) -> None:
        _wait(lambda: bool(condition()), timeout, what, self.proc)

    def xdo(self, *args: str) -> str:
        run = subprocess.run(
            [self._xdotool, *args], env=self.env, capture_output=True, text=True, timeout=10
        )
        return run.stdout

    def windows(self, name: str = ".") -> list[str]:
        """The visible windows whose name matches `name` (a POSIX regular expression)."""
        return self.xdo("search", "--onlyvisible", "--name", name).split()

    def find_window(self, name: str | None = None, *, besides: str = "") -> str:
        """The window named `name` exactly, or any other than `besides`, once it shows."""
        found: list[str] = []

        def shown() -> bool:
            found[:] = [w for w in self.windows(f"^{name}$" if name else ".") if w != besides]
            return bool(found)

        self.wait(shown, f"the window “{name or 'next'}” was shown")
        return found[-1]

    def keys(self, window: str, *keys: str) -> None:
        """Keys typed into `window`, given the keyboard focus first (no window manager here)."""
        self.xdo("windowfocus", "--sync", window)
        self.xdo("key", "--delay", "60", *keys)

    def main_window(self) -> str:
        self.window = self.find_window("Qamera Desktop")
        return self.window

    def quit(self) -> None:
        """Ctrl+Q, and the app ends cleanly."""
        self.keys(self.window, "ctrl+q")
        self.proc.wait(30)
        assert self.proc.returncode == 0, self.err.read_text()[-3000:]
        assert "Traceback" not in self.err.read_text(), self.err.read_text()[-3000:]

    def worker_pids(self) -> list[int]:
        """The app's thumbnail worker processes (its children started with the worker flag)."""
        children = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children += (task / "children").read_text().split()
        cmdlines = {int(c): Path(f"/proc/{c}/cmdline").read_bytes() for c in children}
        return [pid for pid, cmd in cmdlines.items() if WORKER_FLAG.encode() in cmd.split(b"\0")]


def _committed_rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows read as another process would (read-only; WAL readers see every commit)."""
    if not database.exists():
        return []
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=2)
        ) as db:
            return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not made yet
        return []


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _answers(
    log: str, status: int | None = None, request: str | None = None
) -> list[re.Match[str]]:
    return [
        m
        for m in ANSWER.finditer(log)
        if (status is None or int(m["status"]) == status)
        and (request is None or m["request"] == request)
    ]


def _pickers_loaded(log: str) -> bool:
    kinds = ("products", "models", "sceneries", "presets")
    return all(_answers(log, 200, f"GET /api/external/{kind}") for kind in kinds)


# -- the test ----------------------------------------------------------------------------------
def test_no_key_in_any_file_or_output_of_the_app_and_failures_logged_with_their_ids(
    xvfb_display: str,
    sandbox_factory: Callable[..., SandboxHandle],
    sent_ids: set[str],
    tmp_path: Path,
) -> None:
    key, wrong_key = recognisable_key("secretstest"), recognisable_key("wrongkey")
    search = needles(key, "the key") + needles(wrong_key, "the wrong key")
    handle = sandbox_factory(extra_demo_keys=(key,))
    folders = Folders(tmp_path / "app")
    everything = [folders.root]

    # 1. the app on the good key: browse, pick, a shoot refused then made, a refresh refused
    handle.reset_stats()
    app = App(folders, folders.env(xvfb_display, key, trace=True), handle.base_url, "good-key")
    try:
        app.wait(lambda: "trace thumbnails-painted" in app.out.read_text(), "the first thumbnails")
        workers = app.worker_pids()
        assert workers, "no thumbnail worker process: the check of its environment would be void"
        for pid in workers:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            named = any(v.startswith(f"{API_KEY_ENV}=".encode()) for v in environ)
            assert not named, f"the thumbnail worker's environment holds {API_KEY_ENV}"
            assert not [n.form for n in search if any(n.data in v for v in environ)]
        # the worker logs into its own file (at DEBUG here: its CDN connections at least)
        app.wait(
            lambda: any(f" {workers[0]} " in line for line in _lines(folders.worker_log_file)),
            "the thumbnail worker logged into its own file",
        )
        window = app.main_window()
        database = folders.profile_database()
        app.xdo("mousemove", "--window", window, "115", "220", "click", "1")
        app.keys(window, "Right", "p", "Down", "p", "space")
        app.wait(
            lambda: len(_committed_rows(database, "SELECT image_id FROM reviews")) == 2,
            "the two picks were committed",
        )
        loupe = app.find_window(besides=window)  # named after the image it shows
        app.keys(loupe, "Escape")
        app.wait(lambda: loupe not in app.windows(), "the loupe was closed")
        app.keys(window, "ctrl+n")
        dialog = app.find_window("New shoot")
        app.keys(dialog, "Down")  # the first product
        app.wait(lambda: _pickers_loaded(folders.log()), "the New shoot dialog's lists were loaded")
        handle.reconfigure(error_rate=1.0)
        app.keys(dialog, "ctrl+Return")
        app.wait(lambda: _answers(folders.log(), 500, POST_SHOOT), "the shoot was refused (500)")
        handle.reconfigure(error_rate=0.0)
        app.keys(dialog, "ctrl+Return")  # everything typed is still there
        app.wait(
            lambda: _committed_rows(database, "SELECT 1 FROM shoots WHERE state = 'finished'"),
            "the shoot submitted again was tracked until it finished",
            timeout=30,
        )
        handle.reconfigure(error_rate=1.0)
        app.keys(window, "F5")
        app.wait(lambda: _answers(folders.log(), 500, GET_IMAGES), "the refresh was refused (500)")
        handle.reconfigure(error_rate=0.0)
        refused = len(_answers(folders.log(), None, GET_IMAGES))
        app.wait(
            lambda: (
                len(_answers(folders.log(), 200, GET_IMAGES)) > 0
                and len(_answers(folders.log(), None, GET_IMAGES)) > refused
            ),
            "the refresh's retry went through",
        )
        assert_no_leak(everything, search, "while the app ran on the good key")
        app.quit()
    finally:
        _kill(app.proc)
    good_key_failures = failures_answered(handle)
    assert_no_leak(everything, search, "after the app ran on the good key")

    # 2. the headless export with the same key (the picks), then with the wrong one (refused)
    export = [*APP, "export", "--api-url", handle.base_url, "--data-dir", str(folders.data)]
    for name, export_key, status in (("export", key, 0), ("export-wrong-key", wrong_key, 2)):
        done = subprocess.run(
            [*export, "--to", str(folders.root / name)],
            env=folders.env(xvfb_display, export_key),
            capture_output=True,
            text=True,
            timeout=60,
        )
        (folders.captured / f"{name}.out").write_text(done.stdout)
        (folders.captured / f"{name}.err").write_text(done.stderr)
        assert done.returncode == status, done.stdout + done.stderr
    assert "Exporting 2 picks" in (folders.captured / "export.out").read_text()
    assert "refused the key" in (folders.captured / "export-wrong-key.err").read_text()
    assert_no_leak(everything, search, "after the exports")

    # 3. the app on the wrong key: a 401, then the server gone
    handle.reset_stats()
    app = App(folders, folders.env(xvfb_display, wrong_key), handle.base_url, "wrong-key")
    try:
        app.wait(lambda: _answers(folders.log(), 401, GET_IMAGES), "the listing was refused (401)")
        window = app.main_window()
        handle.stop()  # every request it answered is logged by the time the app has quit
        wrong_key_failures = failures_answered(handle)
        app.keys(window, "F5")
        app.wait(
            lambda: UNREACHABLE.search(folders.log()), "a request that could not connect was logged"
        )
        assert_no_leak(everything, search, "while the app ran on the wrong key")
        app.quit()
    finally:
        _kill(app.proc)
    assert_no_leak(everything, search, "after the app ran on the wrong key")
    assert not (folders.data / KEY_FILE_NAME).exists(), "a key in the environment is never stored"

    # every failed request is in the log file at WARNING, with an id the sandbox sent
    failed = [m for m in _answers(folders.log()) if int(m["status"]) >= 400]
    assert {m["level"] for m in failed} == {"WARNING"}
    assert {m["id"] for m in failed} <= sent_ids
    assert len({m["id"] for m in failed}) == len(failed) == good_key_failures + wrong_key_failures
    assert {int(m["status"]) for m in failed} == {500, 401}


def test_the_search_finds_every_form_of_a_key_with_its_file_and_offset(tmp_path: Path) -> None:
    """The search itself, so that "found nowhere" above means something: each form, written
    amid other bytes (base64 at each alignment of a longer stream), is found where it is."""
    key = recognisable_key("searchcheck")
    secret = key.partition(".")[2]
    written = {
        "plain.log": b"x" * 7 + key.encode() + b"\n",
        "url.json": f'{{"next": "/a?k={quote(key, safe="")}"}}'.encode(),
        "wide.bin": b"\0\1" + secret.encode("utf-16-le"),
        "half.txt": b"truncated: " + secret[:16].encode(),
        **{
            f"b64-{pad}.txt": base64.b64encode(b"p" * pad + secret.encode() + b"tail")
            for pad in range(3)
        },
        "urlsafe.txt": base64.urlsafe_b64encode(b"hdr:" + key.encode()),
        "clean.txt": key.replace(secret, "[redacted]").encode(),
    }
    for name, data in written.items():
        (tmp_path / name).write_bytes(data)
    found = leaks([tmp_path], needles(key, "the key"))
    files = {line.partition(" at offset ")[0] for line in found}
    assert files == {str(tmp_path / name) for name in written if name != "clean.txt"}
    assert f"{tmp_path / 'plain.log'} at offset 7: the key, whole (b'xxxxxxx<HERE>\\n')" in found
    assert any(line.startswith(f"{tmp_path / 'half.txt'} at offset 11: ") for line in found)
    for half in secret.split("+/="):
        assert all(half not in line for line in found), "a report must not show the key"
