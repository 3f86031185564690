"""Rate limit, fault knobs (error rate, latency) and request statistics, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from qamera_desktop.sandbox import EXAMPLE_API_KEY, READONLY_API_KEY, SandboxConfig, SandboxHandle
from qamera_desktop.sandbox import __main__ as sandbox_main
from tests.sandbox_fixtures import API, api_client, list_images, wait_until

REGISTER = f"{API}/image-picker/register-ideas"
SHOOT = {"config": {"product": {"id": "prod_run03"}}, "count": 1}


def test_61st_request_in_a_minute_is_429(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = sandbox_factory(rate_limit=True)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        codes = [client.post(REGISTER, json=SHOOT).status_code]  # GET and POST share the budget
        codes += [client.get(f"{API}/products").status_code for _ in range(59)]
        assert codes == [200] * 60
        limited = client.get(f"{API}/image-picker")
        assert limited.status_code == 429
        assert limited.json() == {"error": "Too many requests. Please retry after a short delay."}
        assert limited.headers["x-correlation-id"]
        assert client.post(REGISTER, json=SHOOT).status_code == 429
        # thumbnails come from the CDN, not the API: never limited
        assert httpx.get(f"{sandbox.base_url}/cdn/products/prod_run03.jpg").status_code == 200
    with api_client(sandbox.base_url, READONLY_API_KEY) as other_key:  # same account, own budget
        assert other_key.get(f"{API}/products").status_code == 200
    with api_client(sandbox.base_url, "mk_live_wrong.key") as bad:  # 401 before the limit
        assert bad.get(f"{API}/products").status_code == 401
    stats = sandbox.stats()
    assert stats.api_requests(sandbox.demo_key) == 62
    assert stats.max_in_window(sandbox.demo_key) == 62
    assert stats.by_status[429] == 2
    assert stats.count("GET", f"{API}/products") == 61  # 59 + the other two keys
    assert stats.count("POST", REGISTER) == 2
    sandbox.reconfigure(rate_limit=False)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        assert client.get(f"{API}/products").status_code == 200


def test_the_window_slides(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = sandbox_factory(
        rate_limit=True, rate_limit_per_minute=5, rate_limit_window_seconds=1.0
    )
    with api_client(sandbox.base_url, EXAMPLE_API_KEY) as client:
        first = time.monotonic()
        assert [client.get(f"{API}/presets").status_code for _ in range(5)] == [200] * 5
        assert client.get(f"{API}/presets").status_code == 429
        wait_until(
            lambda: time.monotonic() - first > 1.05, timeout=5, interval=0.05, what="the window"
        )
        assert client.get(f"{API}/presets").status_code == 200


def test_error_rate_gives_500_with_the_error_body(sandbox: SandboxHandle) -> None:
    sandbox.reconfigure(error_rate=1.0)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        for response in (client.get(f"{API}/image-picker"), client.post(REGISTER, json=SHOOT)):
            assert response.status_code == 500
            assert response.json() == {"error": "Internal server error."}
            assert response.headers["x-correlation-id"]
        # a faulted POST registered nothing
        assert sandbox.ledger().account("acct_demo").reserved == 0
        assert httpx.get(f"{sandbox.base_url}/cdn/products/prod_run03.jpg").status_code == 200
        assert httpx.get(f"{sandbox.base_url}{API}/products").status_code == 401  # auth first
        sandbox.reconfigure(error_rate=0.3)
        codes = {client.get(f"{API}/products").status_code for _ in range(60)}
        assert codes == {200, 500}
        sandbox.reconfigure(error_rate=0.0)
        assert client.get(f"{API}/products").status_code == 200


def test_latency_is_added_before_the_handler(sandbox: SandboxHandle) -> None:
    sandbox.reconfigure(latency_ms=300)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        started = time.monotonic()
        assert client.get(f"{API}/models").status_code == 200
        assert time.monotonic() - started >= 0.3


def test_timed_out_post_still_registers_the_job(sandbox: SandboxHandle) -> None:
    """A client that gives up after sending a POST cannot know whether the job exists: it does."""
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        before = len(list_images(client, productId="prod_run03"))
        sandbox.reconfigure(latency_ms=800)
        with pytest.raises(httpx.ReadTimeout):
            client.post(REGISTER, json={**SHOOT, "count": 3}, timeout=0.2)
        sandbox.reconfigure(latency_ms=0)
        wait_until(
            lambda: len(list_images(client, productId="prod_run03")) == before + 3,
            timeout=10,
            what="the job registered by the abandoned POST",
        )
    assert sandbox.stats().count("POST", REGISTER) == 1
    assert sandbox.ledger().account("acct_demo").reserved == 9


def test_stats_count_requests_and_reset(sandbox: SandboxHandle) -> None:
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        for _ in range(3):
            client.get(f"{API}/products")
        client.get(f"{API}/models", params={"statusFilter": "approved"})
        httpx.get(f"{sandbox.base_url}/cdn/products/prod_run03.jpg")
    stats = sandbox.stats()
    assert stats.total == 5
    assert stats.count("GET", f"{API}/products") == 3
    assert stats.count("get", f"{API}/models") == 1
    assert stats.count("GET", "/cdn/products/prod_run03.jpg") == 1
    assert list(stats.key_timestamps) == [sandbox.demo_key]  # thumbnails carry no key
    times = stats.key_timestamps[sandbox.demo_key]
    assert len(times) == 4
    assert list(times) == sorted(times)
    assert stats.by_status == {200: 5}
    sandbox.reset_stats()
    assert sandbox.stats().total == 0


def test_reconfigure_rejects_unknown_knobs(sandbox: SandboxHandle) -> None:
    with pytest.raises(TypeError):
        sandbox.reconfigure(credits=10)
    with pytest.raises(ValueError, match="error_rate"):
        sandbox.reconfigure(error_rate=2.0)
    assert sandbox.reconfigure(processing_seconds=2.5).effective_processing_seconds == 2.5


def test_latency_and_errors_spare_the_thumbnail_cdn(sandbox: SandboxHandle) -> None:
    sandbox.reconfigure(latency_ms=1500, error_rate=1.0)
    started = time.monotonic()
    response = httpx.get(f"{sandbox.base_url}/cdn/sceneries/scenery_beach.jpg")
    assert response.status_code == 200
    assert time.monotonic() - started < 1.5


def test_cdn_latency_delays_thumbnails_only(sandbox: SandboxHandle) -> None:
    sandbox.reconfigure(cdn_latency_ms=400)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        started = time.monotonic()
        assert client.get(f"{API}/models").status_code == 200
        api_seconds = time.monotonic() - started
        started = time.monotonic()
        assert client.get("/cdn/sceneries/scenery_beach.jpg").status_code == 200
        cdn_seconds = time.monotonic() - started
    assert cdn_seconds >= 0.4
    assert api_seconds < 0.4


def test_cdn_latency_is_a_command_line_option(tmp_path: Path) -> None:
    args = sandbox_main.build_parser().parse_args(
        ["--data-dir", str(tmp_path), "--cdn-latency-ms", "60"]
    )
    assert sandbox_main.config_from_args(args).cdn_latency_ms == 60
    with pytest.raises(ValueError, match="must not be negative"):
        SandboxConfig(cdn_latency_ms=-1)
