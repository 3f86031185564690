"""`qamera-desktop export` as a user runs it: a subprocess on a `--demo --data-dir` folder whose
decisions were written the way the window writes them (the real ReviewStore, the real database
file of that folder, the account id the app uses for its demo sandbox).

Exit statuses: 0 when every image was written (and again, resuming, when all are already there),
1 when some failed (their cached CDN files spoiled on disk, so the sandbox itself serves a body
that is not an image), 2 for usage errors, 130 after Ctrl+C. No display is needed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from qamera_desktop.core.account import account_id, sandbox_account_id
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.database import Database
from qamera_desktop.core.export.file_names import safe_file_name
from qamera_desktop.core.profiles import ProfileStore, profile_paths
from qamera_desktop.core.review import Flag, with_flag, with_rating
from qamera_desktop.core.review_store import ReviewStore
from qamera_desktop.sandbox import DEMO_API_KEY, SandboxHandle
from qamera_desktop.sandbox.cdn import RENDER_VERSION
from tests.sandbox_fixtures import api_client, list_images, make_sandbox_fixtures

pytestmark = [pytest.mark.slow]

sandbox_factory, sandbox = make_sandbox_fixtures()

COMMAND = [sys.executable, "-m", "qamera_desktop", "export"]
LIMIT_S = 120


def env() -> dict[str, str]:
    """No keyring, no key, no data folder from the developer's environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QAMERA_")}
    return {**clean, "QAMERA_NO_KEYRING": "1", "PYTHONUNBUFFERED": "1"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=env(), capture_output=True, text=True, timeout=LIMIT_S
    )


def demo_images(
    sandbox_factory: Callable[..., SandboxHandle], data: Path, **config: Any
) -> list[dict[str, Any]]:
    """The demo images of the folder's own sandbox (their ids are made per folder), read before
    the command runs; the sandbox is stopped again, as the app would have left it."""
    handle = sandbox_factory(data_dir=AppPaths.resolve(data).sandbox_dir, **config)
    with api_client(handle.base_url, handle.demo_key) as client:
        images = list_images(client)
    handle.stop()
    return images


def decide(data: Path, picks: Sequence[str], rejects: Sequence[str] = ()) -> None:
    """Decisions as the window makes them, in the folder's database, for its demo account."""
    paths = AppPaths.resolve(data)
    account = sandbox_account_id(paths.sandbox_dir, DEMO_API_KEY)
    with Database(paths.database_file) as database:
        store = ReviewStore(database, account)
        store.decide(picks, lambda r: with_rating(with_flag(r, Flag.PICK), 4))
        if rejects:
            store.decide(rejects, lambda r: with_flag(r, Flag.REJECT))


def cached_cdn_file(data: Path, image_id: str) -> Path:
    """Where the folder's sandbox keeps the JPEG it serves for an image."""
    root = AppPaths.resolve(data).sandbox_dir / "cdn" / f"v{RENDER_VERSION}" / "images"
    return root / image_id[-2:] / f"{image_id}.jpg"


def manifest(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "manifest.json").read_bytes())
    return document


def jpegs(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.jpg")}


def test_the_picks_made_in_the_window_are_exported_and_a_second_run_resumes(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    done = [i for i in demo_images(sandbox_factory, data) if i["status"] == "DONE"]
    picks, rejects = done[:5], done[5:8]
    decide(data, [i["id"] for i in picks], [i["id"] for i in rejects])

    first = run("--demo", "--data-dir", str(data), "--to", str(out))

    assert first.returncode == 0, first.stdout + first.stderr
    assert "Exporting 5 picks" in first.stdout
    assert "5/5 done: 5 written, 0 already there, 0 failed" in first.stdout
    expected = {safe_file_name(i["name"], i["id"], ".jpg") for i in picks}
    assert jpegs(out) == expected  # the picks, not the rejects
    for name in expected:
        with Image.open(out / name) as exported:
            assert b"<xmp:Rating>4</xmp:Rating>" in exported.info["xmp"]
    rows = manifest(out)["images"]
    assert [row["id"] for row in rows] == [i["id"] for i in picks]
    assert {row["outcome"] for row in rows} == {"written"}
    assert all(row["productName"] and row["flag"] == "pick" for row in rows)

    again = run("--demo", "--data-dir", str(data), "--to", str(out))

    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 written, 5 already there, 0 failed" in again.stdout
    assert {row["outcome"] for row in manifest(out)["images"]} == {"skipped"}

    rejected = run(
        "--demo", "--data-dir", str(data), "--to", str(tmp_path / "r"), "--filter", "rejects"
    )
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert jpegs(tmp_path / "r") == {safe_file_name(i["name"], i["id"], ".jpg") for i in rejects}


def test_images_that_fail_are_listed_on_stderr_and_exit_1(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    done = [i for i in demo_images(sandbox_factory, data) if i["status"] == "DONE"]
    picks = done[:4]
    decide(data, [i["id"] for i in picks])
    spoiled = {picks[0]["id"]: b"<!doctype html><p>Sign in</p>", picks[1]["id"]: b""}
    for image_id, body in spoiled.items():  # what the sandbox's CDN will serve for them
        path = cached_cdn_file(data, image_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    result = run("--demo", "--data-dir", str(data), "--to", str(out))

    assert result.returncode == 1, result.stdout + result.stderr
    failed_lines = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed_lines) == 2
    for image in picks[:2]:
        line = f"failed: {image['name']} ({image['id']}): not an image (served as image/jpeg)"
        assert line in failed_lines
    assert "2 written, 0 already there, 2 failed" in result.stdout
    assert jpegs(out) == {safe_file_name(i["name"], i["id"], ".jpg") for i in picks[2:]}
    rows = {row["id"]: row for row in manifest(out)["images"]}
    for image_id in spoiled:
        assert rows[image_id]["outcome"] == "failed"
        assert rows[image_id]["file"] == ""
        assert rows[image_id]["failureReason"] == "not an image (served as image/jpeg)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "{file}"], "is a file, not a folder"),
        (["--to", "{dir}"], "no Qamera account is connected in the app"),
        (["--to", "{dir}", "--filter", "favourites"], "invalid choice: 'favourites'"),
        ([], "the following arguments are required: --to"),
        (["--to", "{dir}", "--api-key", "mk_live_abc123.secret456"], "unrecognized arguments"),
        (["--to", "{dir}", "--api-url", "http://example.com"], "must use https://"),
        (["--to", "{dir}", "--api-url", "https://example.com"], "no account at https://"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    a_file = tmp_path / "a file.txt"
    a_file.write_text("not a folder")
    filled = [a.format(file=a_file, dir=tmp_path / "out") for a in args]

    result = run("--data-dir", str(tmp_path / "data"), *filled)

    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists()  # nothing was made


def test_an_unknown_product_exits_2(tmp_path: Path) -> None:
    result = run(
        "--demo",
        "--data-dir",
        str(tmp_path / "d"),
        "--to",
        str(tmp_path / "o"),
        "--product",
        "prod_nope",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "there is no product 'prod_nope'" in result.stderr


def test_ctrl_c_stops_cleanly_with_130_and_the_manifest_says_so(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    # enough images that the export is still running when Ctrl+C arrives
    images = demo_images(sandbox_factory, data, seed_images=400)
    done = [i["id"] for i in images if i["status"] == "DONE"]
    decide(data, done)
    proc = subprocess.Popen(
        [*COMMAND, "--demo", "--data-dir", str(data), "--to", str(out)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first progress line: the export is under way
            if " done: " in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=LIMIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    assert proc.returncode == 130, stdout + stderr
    assert "Cancelled" in stdout
    assert "Run the same command again to export the rest." in stdout
    document = manifest(out)
    assert document["cancelled"] is True
    assert len(document["images"]) == len(done)
    written = {row["file"] for row in document["images"] if row["outcome"] == "written"}
    assert jpegs(out) == written
    assert 0 < len(written) < len(done)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_an_accounts_decisions_are_exported_from_its_profile_with_the_key_from_the_environment(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A connected account (a profile of the app, its own database) with the key in
    $QAMERA_API_KEY, as a script runs it: the decisions the window made for that account."""
    data, out = tmp_path / "data", tmp_path / "out"
    paths = AppPaths.resolve(data)
    paths.ensure()
    studio = ProfileStore(paths).add("Studio", sandbox.base_url)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        done = [i for i in list_images(client) if i["status"] == "DONE"][:3]
    database_file = profile_paths(paths, studio.id).database_file
    database_file.parent.mkdir(parents=True, exist_ok=True)
    with Database(database_file) as database:
        store = ReviewStore(database, account_id(sandbox.base_url, sandbox.demo_key))
        store.decide([i["id"] for i in done], lambda r: with_flag(r, Flag.PICK))

    result = subprocess.run(
        [*COMMAND, "--data-dir", str(data), "--to", str(out), "--api-url", sandbox.base_url],
        env={**env(), "QAMERA_API_KEY": sandbox.demo_key},
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Exporting 3 picks" in result.stdout
    assert jpegs(out) == {safe_file_name(i["name"], i["id"], ".jpg") for i in done}
    assert sandbox.demo_key not in result.stdout + result.stderr
    assert ProfileStore(paths).profiles[1:] == (studio,)  # the account's own profile, no new one
