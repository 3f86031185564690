"""Sandbox benchmarks over loopback HTTP, against `python -m qamera_desktop.sandbox` in a child
process (so the client's work does not share the server's GIL).

Run: `.venv/bin/python -m tests.perf.bench_sandbox` (also part of `make bench`).

Prints:
- first start with `--seed-images 100000` (seeding the database), time to the first line;
- image-picker listing latency with 100,000 images: median and p90 of N GETs, body received
  (filtered by product and by approval too), and the JSON parse time on the client side;
- the latency of a small request (GET /products) while 100,000-image listings are being served;
- worker throughput: images rendered per second, registration to DONE, with no processing delay
  (`--processing-seconds 0`), and the renderer alone on one thread for comparison.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from qamera_desktop.sandbox import renderer
from qamera_desktop.sandbox.renderer import ModelLook, ProductLook, SceneryLook, ShotSpec
from tests.sandbox_fixtures import SandboxProcess

API = "/api/external"
LISTING_IMAGES = 100_000
LISTING_RUNS = 15
THROUGHPUT_IMAGES = 200


def _timed_get(client: httpx.Client, path: str, **params: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    response.raise_for_status()
    body = response.content
    return time.perf_counter() - started, body


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def bench_listing(work: Path) -> None:
    started = time.perf_counter()
    with SandboxProcess(
        work / "listing",
        "--seed-images",
        str(LISTING_IMAGES),
        "--no-rate-limit",
        "--fast",
        startup_timeout=300,
    ) as proc:
        seeded = time.perf_counter() - started
        print(f"first start with {LISTING_IMAGES:,} seeded images: {seeded:.1f} s")
        with httpx.Client(
            base_url=proc.base_url, headers={"X-Api-Key": proc.demo_key}, timeout=120
        ) as client:
            _timed_get(client, f"{API}/image-picker")  # warm the page cache
            times, body = [], b""
            for _ in range(LISTING_RUNS):
                elapsed, body = _timed_get(client, f"{API}/image-picker")
                times.append(elapsed)
            parsed = time.perf_counter()
            count = json.loads(body)["count"]
            parse = time.perf_counter() - parsed
            times.sort()
            print(
                f"image-picker, {count:,} images ({len(body) / 1e6:.1f} MB): "
                f"median {_ms(statistics.median(times))}, p90 {_ms(times[int(len(times) * 0.9)])}, "
                f"min {_ms(times[0])} over {LISTING_RUNS} GETs; client json.loads {_ms(parse)}"
            )
            for label, params in (
                ("productId=prod_vase04", {"productId": "prod_vase04"}),
                ("statusFilter=approved", {"statusFilter": "approved"}),
            ):
                runs = sorted(
                    _timed_get(client, f"{API}/image-picker", **params)[0] for _ in range(7)
                )
                print(f"image-picker?{label}: median {_ms(statistics.median(runs))}")

        # small requests while another client keeps asking for the full listing
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(
                base_url=proc.base_url, headers={"X-Api-Key": proc.demo_key}, timeout=120
            ) as big:
                while not stop.is_set():
                    big.get(f"{API}/image-picker")

        thread = threading.Thread(target=hammer, daemon=True)
        thread.start()
        time.sleep(0.5)
        small: list[float] = []
        with httpx.Client(
            base_url=proc.base_url, headers={"X-Api-Key": proc.demo_key}, timeout=30
        ) as client:
            for _ in range(40):
                small.append(_timed_get(client, f"{API}/products")[0])
                time.sleep(0.05)
        stop.set()
        thread.join(60)
        small.sort()
        median = _ms(statistics.median(small))
        print(
            f"GET /products while 100k listings are served: median {median}, max {_ms(small[-1])}"
        )
        proc.terminate()


def bench_worker(work: Path) -> None:
    with SandboxProcess(
        work / "worker",
        "--processing-seconds",
        "0",
        "--failure-rate",
        "0",
        "--no-rate-limit",
        "--credits",
        "100000",
    ) as proc:
        with httpx.Client(
            base_url=proc.base_url, headers={"X-Api-Key": proc.demo_key}, timeout=30
        ) as client:
            ids: set[str] = set()
            started = time.perf_counter()
            for _ in range(THROUGHPUT_IMAGES // 20):
                response = client.post(
                    f"{API}/image-picker/register-ideas",
                    json={
                        "config": {
                            "product": {"id": "prod_denim05"},
                            "model": {"id": "model_malik"},
                            "scenery": {"id": "scenery_urban"},
                        },
                        "count": 20,
                    },
                )
                response.raise_for_status()
                ids.update(response.json()["createdRecordIds"])
            while True:
                images = client.get(
                    f"{API}/image-picker", params={"productId": "prod_denim05"}
                ).json()["images"]
                done = sum(1 for im in images if im["id"] in ids and im["status"] == "DONE")
                if done == len(ids):
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        print(
            f"worker: {len(ids)} images registered to DONE in {elapsed:.1f} s = "
            f"{len(ids) / elapsed:.1f} images/s (rendered, cached, settled; 2 render threads)"
        )
        proc.terminate()

    spec = ShotSpec(
        "img_bench",
        ProductLook("Denim Jacket", "jacket", "#3d5a80"),
        SceneryLook("Urban", "urban"),
        ModelLook("Malik", "#7a5038", "#151212"),
    )
    renderer.render_shot(spec)
    runs = 20
    started = time.perf_counter()
    for n in range(runs):
        renderer.render_shot(ShotSpec(f"img_bench{n}", spec.product, spec.scenery, spec.model))
    per = (time.perf_counter() - started) / runs
    print(f"renderer alone, one thread: {per * 1000:.0f} ms per image = {1 / per:.1f} images/s")


def main() -> None:
    print(f"Python {sys.version.split()[0]}, sandbox benchmarks over loopback", flush=True)
    with tempfile.TemporaryDirectory(prefix="qamera-sandbox-bench-") as tmp:
        work = Path(tmp)
        bench_listing(work)
        bench_worker(work)


if __name__ == "__main__":
    main()
