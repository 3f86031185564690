"""`python -m qamera_desktop.sandbox` as a separate process: the command line, a clean stop, and
kill -9 in the middle of a job followed by a restart on the same data directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from qamera_desktop.sandbox import EXAMPLE_API_KEY, read_ledger
from qamera_desktop.sandbox.store import DB_FILENAME, Store
from tests.sandbox_fixtures import (
    API,
    SandboxProcess,
    all_finished,
    api_client,
    statuses,
    wait_until,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REGISTER = f"{API}/image-picker/register-ideas"
PRODUCT = "prod_abc123"
SHOOT = {
    "config": {"product": {"id": PRODUCT}, "model": {"id": "model_xyz"}},
    "count": 10,
}


def test_command_line_prints_url_and_key_then_stops_on_sigterm(tmp_path: Path) -> None:
    with SandboxProcess(tmp_path / "data", "--fast", "--credits", "42") as proc:
        assert proc.first_line.startswith("Qamera sandbox listening on http://127.0.0.1:")
        assert proc.demo_key == "mk_live_demo.sandbox"
        with api_client(proc.base_url, proc.demo_key) as client:
            assert client.get(f"{API}/products").status_code == 200
            response = client.post(
                REGISTER, json={"config": {"product": {"id": "prod_vase04"}}, "count": 15}
            )
            assert response.json() == {
                "error": "Insufficient credits. Required: 45, available: 42."
            }
        assert proc.terminate() == 0
    assert read_ledger(tmp_path / "data").balanced


def test_kill_9_mid_job_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ("--processing-seconds", "0.6", "--failure-rate", "0.3", "--no-rate-limit")
    with SandboxProcess(data, *args) as first:
        with api_client(first.base_url, EXAMPLE_API_KEY) as client:
            receipt = client.post(REGISTER, json=SHOOT).json()
            ids = receipt["createdRecordIds"]

            def processing_with_more_to_come() -> bool:
                now = list(statuses(client, ids, PRODUCT).values())
                return "PROCESSING" in now and now.count("QUEUED") >= 2

            wait_until(processing_with_more_to_come, timeout=20, interval=0.02, what="mid-job")
        first.kill()

    store = Store(data / DB_FILENAME)
    try:
        interrupted = store.interrupted_images()
        assert interrupted
        assert set(interrupted) <= set(ids)
    finally:
        store.close()

    after_kill = read_ledger(data)
    assert after_kill.balanced, after_kill
    (reservation,) = after_kill.reservations
    assert reservation.reservation_id == receipt["reservationId"]
    assert reservation.reserved == 30
    assert reservation.pending >= 9  # at least 3 images still held their credits

    with SandboxProcess(data, "--fast", "--failure-rate", "0.3", "--no-rate-limit") as second:
        with api_client(second.base_url, EXAMPLE_API_KEY) as client:
            final = wait_until(
                lambda: all_finished(client, ids, PRODUCT), timeout=30, what="resumed images"
            )
            listed = {im["id"] for im in client.get(f"{API}/image-picker").json()["images"]}
        assert set(ids) <= listed
        assert second.terminate() == 0

    ledger = read_ledger(data)
    assert ledger.balanced, ledger
    (reservation,) = ledger.reservations
    done = sum(s == "DONE" for s in final.values())
    failed = sum(s == "FAILED" for s in final.values())
    assert done + failed == 10
    assert (reservation.consumed, reservation.refunded, reservation.pending) == (
        3 * done,
        3 * failed,
        0,
    )
    account = ledger.account("acct_example")
    assert account.balance == 500 - 3 * done
