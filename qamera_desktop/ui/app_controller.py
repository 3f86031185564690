"""Shows the main window, connects to an account (or the demo sandbox), and runs until the window
closes, or runs the headless self-test. What is built and how it is wired: ui/services.py."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from qamera_desktop.api.api_key import ApiKey
from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import account_id, sandbox_account_id
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.image_library import LoadState
from qamera_desktop.core.key_env import API_KEY_ENV
from qamera_desktop.core.profiles import (
    DEMO_PROFILE,
    Profile,
    ProfileStore,
    choose_profile,
    profile_paths,
)
from qamera_desktop.core.shoot_service import ShootService
from qamera_desktop.core.shoots import ShootState
from qamera_desktop.launch_options import LaunchOptions
from qamera_desktop.ui.account_actions import AccountContext
from qamera_desktop.ui.main_window import MainWindow
from qamera_desktop.ui.services import AppServices, build_services

if TYPE_CHECKING:
    from qamera_desktop.api.client import QameraClient
    from qamera_desktop.core.key_store import KeyStore
    from qamera_desktop.core.log_setup import LoggingSetup

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


@dataclass(frozen=True, slots=True)
class _Open:
    """A request to open `profile` (with `key` when the connect dialog just gave it)."""

    profile: Profile
    key: ApiKey | None = None
    connect_after: Profile | None = None  # then offer to connect this profile (no key found)


@dataclass(frozen=True, slots=True)
class _Remove:
    """A request to forget the account `profile_id` (the open one), its data too if asked."""

    profile_id: str
    delete_data: bool


_QUIT: Final = None


class AppController:
    """Opens the window on a profile (the demo sandbox or an account: core/profiles.py) and
    serves the window's account requests: switching, connecting, removing. A switch builds the
    other profile's services and window (its own database and caches) at the same place on the
    screen, then closes this one's: nothing of one account stays in the other's window."""

    def __init__(
        self,
        options: LaunchOptions,
        *,
        data_dir: Path | None,
        default_api_url: str,
        start_demo: DemoStarter,
        demo_key: str,
        logging_setup: LoggingSetup | None = None,
        painted: Callable[[], None] | None = None,
    ) -> None:
        """`painted`: called once the first window has painted (app.py turns the garbage
        collector back on)."""
        self.options = options
        self.paths = AppPaths.resolve(data_dir)
        self.default_api_url = default_api_url
        self._start_demo = start_demo
        self._demo_key = demo_key  # the sandbox's, known before it starts: the demo's account
        self._logging = logging_setup
        self._painted = painted
        self.services: AppServices | None = None
        self.demo: DemoServer | None = None
        self.profile: Profile = DEMO_PROFILE
        self.profiles: ProfileStore | None = None
        self.keys: KeyStore | None = None
        self._keys_opening: asyncio.Future[KeyStore] | None = None
        self._requests: asyncio.Queue[_Open | _Remove | None] = asyncio.Queue()

    @property
    def client(self) -> QameraClient | None:
        return self.services.client if self.services is not None else None

    @property
    def shoots(self) -> ShootService | None:
        return self.services.shoots if self.services is not None else None

    async def run(self) -> int:
        started = time.perf_counter()
        self.paths.ensure()
        profiles = self.profiles = ProfileStore(self.paths)
        problem = None
        try:
            chosen = choose_profile(
                profiles,
                demo=self.options.demo or self.options.self_test,
                api_url=self.options.api_url,
                environment_key=bool(os.environ.get(API_KEY_ENV, "").strip()),
            )
        except ValueError as exc:
            chosen, problem = None, f"Cannot use {self.options.api_url}: {exc}"
        services = self._open_window(chosen or DEMO_PROFILE, None)
        window = services.window
        await asyncio.sleep(0)  # let the first paint happen before anything slow
        trace = os.environ.get("QAMERA_STARTUP_TRACE")
        tracing: asyncio.Task[None] | None = None
        if trace:  # the window has painted: the collection that `painted` may start comes after
            print(f"trace window-shown {time.time():.4f}", flush=True)
        if self._painted is not None:
            self._painted()
        try:
            if trace:  # beside the start: a Ctrl+Q before any thumbnail still quits
                tracing = asyncio.create_task(
                    self._trace_first_thumbnails(window, exit_after=trace == "exit")
                )
            await self._connect(services, _Open(chosen or DEMO_PROFILE))
            if chosen is None:  # --api-url of no account yet: offer to connect it
                window.accounts.open_connect_dialog()
                if problem:
                    window.statusBar().showMessage(problem, 15_000)
            if self.options.self_test:
                return await self._self_test(window, started)
            while (request := await self._requests.get()) is not _QUIT:
                if isinstance(request, _Remove):
                    await self._remove(request)
                else:
                    await self._switch(request)
            return 0
        finally:
            if tracing is not None:
                tracing.cancel()
            await self._shutdown()

    # -- opening a profile -------------------------------------------------------------------
    def _open_window(self, profile: Profile, old: MainWindow | None) -> AppServices:
        """The services and window of `profile`, shown (where `old` is, when switching)."""
        paths = profile_paths(self.paths, profile.id)
        paths.ensure()
        services = self.services = build_services(
            self.paths.settings_file, paths.thumbnail_cache_dir
        )
        window = services.window
        if old is not None:
            window.setGeometry(old.geometry())
            if old.isMaximized():
                window.setWindowState(old.windowState())
        window.accounts.set_logging(self._logging)
        window.accounts.switchRequested.connect(
            lambda pid: self._ask(_Open(self._profiles().get(pid)))
        )
        window.accounts.connected.connect(lambda a: self._ask(_Open(a.profile, a.key)))
        # closing the window (or Ctrl+Q) ends the app; a window closed by a switch is not open
        window.closed.connect(lambda: self._ask(_QUIT) if self.services is services else None)
        window.accounts.removeRequested.connect(lambda pid, data: self._ask(_Remove(pid, data)))
        window.show()
        return services

    def _ask(self, request: _Open | _Remove | None) -> None:
        self._requests.put_nowait(request)

    def _profiles(self) -> ProfileStore:
        assert self.profiles is not None
        return self.profiles

    async def _switch(self, request: _Open) -> None:
        """Close this profile's services and window; open `request.profile`'s."""
        old = self.services
        assert old is not None
        new = self._open_window(request.profile, old.window)
        await old.aclose()
        old.window.close()
        old.window.deleteLater()
        if self.demo is not None and not request.profile.is_demo:
            demo, self.demo = self.demo, None
            await asyncio.to_thread(demo.stop)
        await self._connect(new, request)

    async def _remove(self, request: _Remove) -> None:
        """Open the demo (this closes the account's database), then forget the account."""
        if self.profile.id == request.profile_id:
            await self._switch(_Open(DEMO_PROFILE))
        await asyncio.to_thread(
            self._profiles().remove,
            request.profile_id,
            keys=await self._key_store(),
            delete_data=request.delete_data,
        )
        self._set_context()

    async def _connect(self, services: AppServices, request: _Open) -> None:
        """Open the profile's data on this computer (its kept listing shows at once), then its
        server: the demo sandbox, started here, or the account's, with its key."""
        window = services.window
        profile = request.profile
        paths = profile_paths(self.paths, profile.id)
        price: float | None = None
        if profile.is_demo:
            window.show_demo_banner(True)
            # the sandbox's port changes from run to run: its history is kept under its folder
            services.open_local(
                paths.database_file, sandbox_account_id(paths.sandbox_dir, self._demo_key)
            )
            await _show_kept(window)
            if self.demo is None:
                if not window.model.rowCount():  # not over the kept images
                    window.grid.show_message("Starting the demo sandbox…")
                fast = self.options.sandbox_fast or self.options.self_test
                self.demo = await asyncio.to_thread(self._start_demo, paths.sandbox_dir, fast)
            api_url, key = self.demo.base_url, self.demo.demo_key
            price = self.demo.config.price_per_image
            description = "Demo sandbox"
        else:
            assert profile.base_url is not None
            loaded = request.key or await self._load_key(profile)
            if loaded is None:  # no key kept for it (a session-only key of a past session)
                window.statusBar().showMessage(
                    f"No key is stored for “{profile.name}” on this computer: connect it again.",
                    15_000,
                )
                self._ask(_Open(DEMO_PROFILE, connect_after=profile))
                return
            api_url, key = profile.base_url, loaded.reveal()
            services.open_local(paths.database_file, account_id(api_url, key))
            await window.library.show_kept()  # its thumbnails come from the CDN meanwhile
            description = f"{profile.name} · {api_url}"
        # the client's module and httpx (~0.1 s of imports) load on a thread, not the window's
        await asyncio.to_thread(importlib.import_module, "qamera_desktop.api.client")
        try:
            services.connect(
                api_url,
                key,
                description=description,
                demo=profile.is_demo,
                sandbox_price_per_image=price,
            )
            connected = True
        except ValueError as exc:
            connected = False
            if window.model.rowCount():  # not over the kept images
                window.statusBar().showMessage(f"Cannot connect: {exc}")
            else:
                window.grid.show_message(f"Cannot connect: {exc}")
            window.connection_label.setText("Not connected")
        # this window's profile, connected or not: the Accounts menu lists the keys kept, and
        # can switch to another profile or remove this one
        self.profile = profile
        await self._key_store()
        self._set_context(api_url)
        if not connected:
            return
        await asyncio.to_thread(self._profiles().set_last_used, profile.id)
        if request.connect_after is not None:
            window.accounts.open_connect_dialog(request.connect_after)

    async def _key_store(self) -> KeyStore:
        """The keys kept on this computer, opened on a thread when first needed: the keyring's
        import and backend lookup (~50 ms and ~70 ms) come after the demo's kept images, not
        before, and never on the GUI thread. One opening, whichever caller is cancelled."""
        if self.keys is None:
            if self._keys_opening is None:
                self._keys_opening = asyncio.ensure_future(
                    asyncio.to_thread(_open_key_store, self.paths.data_dir)
                )
            self.keys = await asyncio.shield(self._keys_opening)
        return self.keys

    async def _load_key(self, profile: Profile) -> ApiKey | None:
        keys = await self._key_store()
        loaded = await asyncio.to_thread(keys.load, profile.id)
        return loaded.key if loaded is not None else None

    def _set_context(self, base_url: str | None = None) -> None:
        if self.services is None or self.keys is None:
            return
        accounts = self.services.window.accounts
        url = base_url or (self.client.base_url if self.client is not None else None)
        accounts.set_context(AccountContext(self._profiles(), self.keys, self.profile, url))

    async def _trace_first_thumbnails(self, window: MainWindow, *, exit_after: bool) -> None:
        """For `make bench`: print when the first screen of thumbnails is painted, every cell
        with its picture (a broken mark is not a thumbnail shown)."""
        while window.model.rowCount() == 0 or window.grid.first_screen_states() != {"ready"}:  # noqa: ASYNC110
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
        if not gc.isenabled():  # off for the start only (cli.main): on for good after it
            raise SelfTestFailed("the garbage collector is still off")
        while window.library.state.load is not LoadState.READY or window.model.rowCount() == 0:
            if window.library.state.load is LoadState.ERROR:
                raise SelfTestFailed(f"listing failed: {window.library.state.error}")
            await asyncio.sleep(0.05)
        listed = time.perf_counter() - started
        await _first_screen_painted(window, "the first thumbnails")
        painted = time.perf_counter() - started
        visible = len(window.grid.visible_rows())
        pid = window.loader.worker_pid
        where = f"thumbnail worker process {pid}" if pid is not None else "thumbnails in the app"
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
            f"{visible} thumbnails painted in {painted:.2f} s ({where}), {shoot_text}"
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


def _open_key_store(data_dir: Path) -> KeyStore:
    from qamera_desktop.core.key_store import KeyStore

    keys = KeyStore(data_dir)
    keys.keyring_state()  # finds the keyring's backend here, not when a dialog first asks
    return keys


KEPT_FIRST_SCREEN_S = 1.0
"""How long the server's start waits for the kept listing's first screen of thumbnails."""


async def _show_kept(window: MainWindow) -> None:
    """Show the demo's listing kept from last time, and give its first screen of thumbnails
    (from the disk cache) the machine before the sandbox starts: starting it and importing the
    HTTP client hold the interpreter for ~0.3 s, which the thumbnails' delivery would wait
    behind. The designer's own images come first; the server's answer, a moment later, is
    usually the same listing. (An account's thumbnails come from its CDN, which does not wait
    for its API: its kept listing is shown without waiting.)"""
    await window.library.show_kept()
    await window.library.settled()  # a large listing is arranged on a thread
    if window.model.rowCount():
        await _screen_painted(window, KEPT_FIRST_SCREEN_S, poll_s=0.005)


async def _screen_painted(window: MainWindow, limit_s: float, poll_s: float = 0.05) -> bool:
    """Wait until every visible cell shows its picture or its broken mark, then paint;
    whether that happened within `limit_s`."""
    deadline = time.perf_counter() + limit_s
    while not window.grid.first_screen_ready():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(poll_s)
    window.grid.viewport().repaint()
    return True


async def _first_screen_painted(window: MainWindow, what: str, limit_s: float = 15.0) -> None:
    if not await _screen_painted(window, limit_s):
        raise SelfTestFailed(f"{what} were not painted within {limit_s:.0f} s")
