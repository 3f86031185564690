"""Shows the main window, connects to an account (or the demo sandbox), and runs until the window
closes, or runs the headless self-test. What is built and how it is wired: ui/services.py."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QApplication

from qamera_desktop.api import QameraClient
from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import sandbox_account_id
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.image_library import LoadState
from qamera_desktop.core.secret_store import load_api_key
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import ShootState
from qamera_desktop.launch_options import LaunchOptions
from qamera_desktop.ui.main_window import MainWindow
from qamera_desktop.ui.services import AppServices, build_services

log = logging.getLogger(__name__)

SELF_TEST_TIMEOUT_S = 45.0


class DemoPrices(Protocol):
    @property
    def price_per_image(self) -> int: ...


class DemoServer(Protocol):
    @property
    def base_url(self) -> str: ...
    @property
    def demo_key(self) -> str: ...
    @property
    def config(self) -> DemoPrices: ...
    def stop(self) -> None: ...


DemoStarter = Callable[[Path, bool], DemoServer]


class SelfTestFailed(Exception):
    pass


class AppController:
    def __init__(
        self,
        options: LaunchOptions,
        *,
        data_dir: Path | None,
        default_api_url: str,
        start_demo: DemoStarter,
    ) -> None:
        self.options = options
        self.paths = AppPaths.resolve(data_dir)
        self.default_api_url = default_api_url
        self._start_demo = start_demo
        self.services: AppServices | None = None
        self.demo: DemoServer | None = None

    @property
    def client(self) -> QameraClient | None:
        return self.services.client if self.services is not None else None

    @property
    def shoots(self) -> ShootService | None:
        return self.services.shoots if self.services is not None else None

    async def run(self) -> int:
        started = time.perf_counter()
        self.paths.ensure()
        services = self.services = build_services(
            self.paths.settings_file, self.paths.thumbnail_cache_dir
        )
        window = services.window
        window.show()
        app = QApplication.instance()
        closed = asyncio.Event()
        if isinstance(app, QApplication):
            app.lastWindowClosed.connect(closed.set)
        await asyncio.sleep(0)  # let the first paint happen before anything slow
        trace = os.environ.get("QAMERA_STARTUP_TRACE")
        if trace:
            print(f"trace window-shown {time.time():.4f}", flush=True)
        try:
            await self._connect(services)
            if trace:
                await self._trace_first_thumbnails(window, exit_after=trace == "exit")
            if self.options.self_test:
                return await self._self_test(window, started)
            await closed.wait()
            return 0
        finally:
            await self._shutdown()

    async def _connect(self, services: AppServices) -> None:
        window = services.window
        use_demo = self.options.demo or self.options.self_test
        api_url = self.options.api_url or window.settings.api_url or self.default_api_url
        key = None if use_demo else await asyncio.to_thread(load_api_key, api_url)
        if key is None:
            window.grid.show_message("Starting the demo sandbox…")
            fast = self.options.sandbox_fast or self.options.self_test
            self.demo = await asyncio.to_thread(self._start_demo, self.paths.sandbox_dir, fast)
            api_url, key, description = self.demo.base_url, self.demo.demo_key, "Demo sandbox"
            # the sandbox's port changes every run: its history is kept under its folder instead
            account: str | None = sandbox_account_id(self.paths.sandbox_dir, key)
            price: float | None = self.demo.config.price_per_image
        else:
            description = f"Connected to {api_url}"
            account = price = None
        try:
            services.connect(
                api_url,
                key,
                database_file=self.paths.database_file,
                description=description,
                demo=self.demo is not None,
                account=account,
                sandbox_price_per_image=price,
            )
        except ValueError as exc:
            window.grid.show_message(f"Cannot connect: {exc}")
            window.connection_label.setText("Not connected")

    async def _trace_first_thumbnails(self, window: MainWindow, *, exit_after: bool) -> None:
        """For `make bench`: print when the first screen of thumbnails is painted."""
        while window.model.rowCount() == 0 or not window.grid.first_screen_ready():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        window.grid.viewport().repaint()
        print(f"trace thumbnails-painted {time.time():.4f}", flush=True)
        if exit_after:
            window.close()

    async def _self_test(self, window: MainWindow, started: float) -> int:
        try:
            summary = await asyncio.wait_for(
                self._self_test_steps(window, started), SELF_TEST_TIMEOUT_S
            )
        except (SelfTestFailed, ApiError) as exc:
            print(f"self-test FAILED: {exc}", flush=True)
            return 1
        except TimeoutError:
            print(
                f"self-test FAILED: not finished within {SELF_TEST_TIMEOUT_S:.0f} s "
                f"(library {window.library.state.load}, {window.model.rowCount()} rows)",
                flush=True,
            )
            return 1
        print(f"self-test ok: {summary}", flush=True)
        return 0

    async def _self_test_steps(self, window: MainWindow, started: float) -> str:
        if self.client is None:
            raise SelfTestFailed("could not connect to the sandbox")
        while window.library.state.load is not LoadState.READY or window.model.rowCount() == 0:
            if window.library.state.load is LoadState.ERROR:
                raise SelfTestFailed(f"listing failed: {window.library.state.error}")
            await asyncio.sleep(0.05)
        listed = time.perf_counter() - started
        await _first_screen_painted(window, "the first thumbnails")
        painted = time.perf_counter() - started
        visible = len(window.grid.visible_rows())
        shoot_text = await self._self_test_shoot(window)
        # the shoot's new images sit at the top of the grid: the screenshot shows their pictures
        await window.library.settled()
        await _first_screen_painted(window, "the new images' thumbnails")
        if self.options.screenshot is not None:
            path = self.options.screenshot
            path.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(path)):
                raise SelfTestFailed(f"could not write the screenshot to {path}")
        return (
            f"{window.model.rowCount()} images listed in {listed:.2f} s, "
            f"{visible} thumbnails painted in {painted:.2f} s, {shoot_text}"
            + (f", screenshot {self.options.screenshot}" if self.options.screenshot else "")
        )

    async def _self_test_shoot(self, window: MainWindow) -> str:
        """Register a 3-image shoot of the first product and wait until every image is done."""
        if self.shoots is None or self.client is None:
            raise SelfTestFailed("no shoot service")
        products = await self.client.list_products()
        if not products:
            raise SelfTestFailed("the sandbox has no products")
        begun = time.perf_counter()
        known = {s.local_id for s in self.shoots.shoots()}
        await window.submit_shoot(
            ShootRequest(product_id=products[0].id, count=3), products[0].name
        )
        shoot = next(s for s in self.shoots.shoots() if s.local_id not in known)
        while (current := self.shoots.get(shoot.local_id)) is not None and current.is_active:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        if current is None or current.state is not ShootState.FINISHED:
            raise SelfTestFailed(f"the shoot ended as {current.state if current else 'missing'}")
        in_grid = sum(1 for i in current.record_ids if window.library.get(i) is not None)
        return (
            f"3-image shoot finished in {time.perf_counter() - begun:.1f} s "
            f"({current.summary()}; {in_grid} in the grid)"
        )

    async def _shutdown(self) -> None:
        if self.services is not None:
            await self.services.aclose()
        if self.demo is not None:
            await asyncio.to_thread(self.demo.stop)


async def _first_screen_painted(window: MainWindow, what: str, limit_s: float = 15.0) -> None:
    """Wait until every visible cell shows its picture or its broken mark, then paint."""
    deadline = time.perf_counter() + limit_s
    while not window.grid.first_screen_ready():
        if time.perf_counter() > deadline:
            raise SelfTestFailed(f"{what} were not painted within {limit_s:.0f} s")
        await asyncio.sleep(0.05)
    window.grid.viewport().repaint()
