"""The composition root (qamera_desktop/ui/services.py) that the app and the widget tests share."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from qamera_desktop.api import QameraClient
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import account_id
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import Shoot, ShootState
from qamera_desktop.sandbox import SandboxHandle
from qamera_desktop.ui.services import ShootPolling, Tuning, build_services
from tests.ui.helpers import make_client


def test_production_polls_at_the_shoot_services_own_pace() -> None:
    defaults = inspect.signature(ShootService).parameters
    polling = ShootPolling()
    assert polling.min_interval == defaults["min_interval"].default
    assert polling.max_interval == defaults["max_interval"].default
    assert polling.requests_per_minute == defaults["requests_per_minute"].default


def test_a_refused_url_connects_nothing(
    qtbot: Any, arun: Any, tmp_path: Path, sandbox: SandboxHandle
) -> None:
    services = build_services(tmp_path / "settings.json", tmp_path / "thumbs")
    qtbot.addWidget(services.window)
    database_file = tmp_path / "qamera.sqlite3"
    try:
        assert not services.window.isVisible()  # the caller shows it, before anything slow
        plain_http = sandbox.base_url.replace("127.0.0.1", "example.com")
        services.open_local(database_file, account_id(plain_http, sandbox.demo_key))
        with pytest.raises(ValueError, match="https"):
            services.connect(plain_http, sandbox.demo_key, description="nowhere", demo=False)
        assert (services.client, services.shoots) == (None, None)
        assert not services.window.new_shoot_action.isEnabled()
        assert services.window.connection_label.text() != "nowhere"
    finally:
        arun(services.aclose())


def test_connect_wires_the_window_first_then_the_extra_listeners(
    qtbot: Any, arun: Any, tmp_path: Path, sandbox: SandboxHandle
) -> None:
    tuning = Tuning(make_client=make_client, polling=ShootPolling(0.1, 1.0, 600.0))
    services = build_services(tmp_path / "settings.json", tmp_path / "thumbs", tuning=tuning)
    window = services.window
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel_had_it: list[bool] = []  # at each change: the Shoots panel already showed this shoot
    status_when_finished: list[str] = []

    def on_change(shoot: Shoot) -> None:
        panel_had_it.append(window.shoots_panel.current_shoot() is shoot)

    def on_finished(shoot: Shoot) -> None:
        status_when_finished.append(window.statusBar().currentMessage())

    database_file = tmp_path / "qamera.sqlite3"
    try:
        services.open_local(database_file, account_id(sandbox.base_url, sandbox.demo_key))
        client = services.connect(
            sandbox.base_url,
            sandbox.demo_key,
            description="Demo sandbox",
            demo=True,
            on_change=[on_change],
            on_finished=[on_finished],
        )
        assert client is services.client
        assert database_file.exists()
        assert window.connection_label.text() == "Demo sandbox"
        qtbot.waitUntil(lambda: bool(window.filters.products))  # attached: products listed
        assert window.new_shoot_action.isEnabled()

        arun(window.submit_shoot(ShootRequest("prod_mug06", count=2), "Stoneware Mug"))
        assert services.shoots is not None
        shoot = services.shoots.shoots()[0]
        qtbot.waitUntil(lambda: len(status_when_finished) == 1, timeout=15_000)
        finished = services.shoots.get(shoot.local_id)
        assert finished is not None
        assert finished.state is ShootState.FINISHED
        assert status_when_finished[0].startswith("Shoot finished: Stoneware Mug")
        assert panel_had_it
        assert all(panel_had_it)
    finally:
        arun(services.aclose())
    assert client.closed


class _NeverClosingTransport(httpx.AsyncBaseTransport):
    """A connection that never says it closed: a fault no real server produces on demand."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.close_started = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.close_started = True
        await self.inner.aclose()
        await asyncio.Event().wait()


def test_a_service_that_never_closes_does_not_keep_the_app_from_quitting(
    qtbot: Any, arun: Any, tmp_path: Path, sandbox: SandboxHandle, caplog: Any
) -> None:
    transport = _NeverClosingTransport()

    def hanging_client(url: str, key: str) -> QameraClient:
        return make_client(url, key, transport=transport)

    services = build_services(
        tmp_path / "settings.json", tmp_path / "thumbs", tuning=Tuning(make_client=hanging_client)
    )
    qtbot.addWidget(services.window)
    services.open_local(tmp_path / "qamera.sqlite3", account_id(sandbox.base_url, sandbox.demo_key))
    services.connect(
        sandbox.base_url,
        sandbox.demo_key,
        description="Demo sandbox",
        demo=True,
    )
    arun(services.aclose(step_seconds=0.5), timeout=10)
    assert transport.close_started
    assert "Closing the API client took over" in caplog.text
    assert services.database is not None
    with pytest.raises(sqlite3.ProgrammingError):  # closed all the same, after the stuck step
        services.database.query("select 1")
