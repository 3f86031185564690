"""Getting approved images out of the window: Export… (files, manifest, XMP), the contact sheet,
dragging images out as files, and Copy ID / Copy URL of the selected images.

The export itself is core/export (Qt-free, also run headless by `qamera-desktop export`); this
room asks what and where (ui/export_dialog.py, ui/contact_sheet_dialog.py), gathers what the
files say about each image (its review, its product, its shoot), and runs the downloads and the
PDF on a `ThreadJob` (a thread with its own asyncio loop): the GUI thread never downloads, the
window stays usable, and the job's reports arrive on the GUI thread.

- What an image's product is: the product filter's when one product is listed; else the product
  of the app's own shoot that made it; else (only then, "All products" and images from elsewhere)
  the engine's `product_index`, one listing per product, kept for the next time.
- Closing the window cancels a running export or contact sheet; `aclose` (the app's shutdown)
  waits until its thread has ended, so that no file is left half-written (the engine writes
  `.part` files and renames them: a cancelled export keeps only complete files).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import shiboken6
from PySide6.QtCore import QEvent, QEventLoop, QObject, QStandardPaths, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressDialog, QStatusBar

from qamera_desktop.api.errors import ApiError
from qamera_desktop.api.records import Image, Product
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.export.image_choice import ImageChoice
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import arrange
from qamera_desktop.core.review import Flag, Review
from qamera_desktop.core.settings import Settings
from qamera_desktop.core.shoots import Shoot
from qamera_desktop.ui.filter_bar import FilterBar
from qamera_desktop.ui.image_browser import ImageBrowser
from qamera_desktop.ui.review_controller import ReviewController
from qamera_desktop.ui.shoots_controller import ShootsController
from qamera_desktop.ui.thread_job import JobContext, ThreadJob, Work

if TYPE_CHECKING:  # imported where they are used: the dialogs, the engine, Pillow and the PDF
    # writer load when an export, a sheet or a drag first needs them, not before the first paint
    from qamera_desktop.api.client import QameraClient
    from qamera_desktop.core.contact_sheet_layout import SheetLayout
    from qamera_desktop.core.export.exporter import ExportItem, ExportResult
    from qamera_desktop.ui.contact_sheet import SheetHeader, SheetResult
    from qamera_desktop.ui.contact_sheet_dialog import ContactSheetDialog
    from qamera_desktop.ui.export_dialog import ExportDialog, JobDialog
    from qamera_desktop.ui.originals_cache import Fetched

log = logging.getLogger(__name__)

DRAG_PROGRESS_AFTER_MS = 400
"""A drag whose files take longer than this to download shows its progress."""

SHEET_TITLES = {
    ImageChoice.PICKS: "Contact sheet: picks",
    ImageChoice.SELECTION: "Contact sheet: selected images",
}


class ExportWindow(Protocol):
    """What this room uses of the main window, its parent."""

    settings: Settings
    filters: FilterBar
    shoots: ShootsController
    reviews: ReviewController
    tasks: BackgroundTasks

    def _save(self, **changes: object) -> None: ...


class ExportController(QObject):
    def __init__(
        self,
        library: ImageLibrary,
        browser: ImageBrowser,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._browser = browser
        self._status = status_bar
        self._window = cast(ExportWindow, parent)
        self._client: QameraClient | None = None
        self.account = ""  # the connection as the window names it ("Demo sandbox")
        self.originals: Path | None = None  # the cache of the images' own files
        self._products: dict[str, Product] = {}  # image id -> product, from product_index
        self.export_dialog: ExportDialog | None = None
        self.sheet_dialog: ContactSheetDialog | None = None
        self.jobs: dict[JobDialog, ThreadJob] = {}  # the job running for each dialog
        self._preparing: dict[JobDialog, asyncio.Task[None]] = {}
        browser.grid.drag_files = self.files_for_drag
        if parent is not None:
            parent.installEventFilter(self)

    def attach(self, client: QameraClient, account: str, originals: Path) -> None:
        """Use this account: its client (for the products), its name for the contact sheet's
        header (never the key), and the folder of its images' files."""
        from qamera_desktop.ui.originals_cache import prune

        self._client = client
        # "Connected to https://…" names a server on a status bar; on paper, the server alone
        self.account = account.removeprefix("Connected to ")
        self.originals = originals
        self._products.clear()
        self._window.tasks.start(asyncio.to_thread(prune, originals), "Tidying the image cache")

    # -- which images ------------------------------------------------------------------------
    def images(self, choice: ImageChoice) -> list[Image]:
        """The finished images of `choice`, in the grid's order, each once."""
        from qamera_desktop.core.export.exporter import ExportScope, select_images

        library, reviews = self._library, self._reviews()
        if choice is ImageChoice.PICKS:
            picked = [
                image
                for image_id, review in reviews.items()
                if review.flag is Flag.PICK and (image := library.get(image_id)) is not None
            ]
            return select_images(arrange(picked, "", library.sort), reviews, ExportScope.PICKS)
        if choice is ImageChoice.SELECTION:
            chosen = [library.get(image_id) for image_id in self._browser.targets()]
            listed = [image for image in chosen if image is not None]
            return select_images(listed, reviews, ExportScope.ALL)
        return select_images(library.images, reviews, ExportScope.ALL)

    def counts(self, choices: Sequence[ImageChoice]) -> dict[ImageChoice, int]:
        return {choice: len(self.images(choice)) for choice in choices}

    def _reviews(self) -> dict[str, Review]:
        store = self._window.reviews.store
        return store.reviewed() if store is not None else {}

    async def items(self, images: Sequence[Image]) -> list[ExportItem]:
        """The images with their reviews, products and shoots (see the module docstring)."""
        from qamera_desktop.core.export.exporter import export_items

        service = self._window.shoots.service
        shoots: dict[str, Shoot] = {}
        if service is not None:
            shoots = {i.id: s for i in images if (s := service.shoot_of(i.id)) is not None}
        products = await self._products_of(images, shoots)
        return export_items(images, self._reviews(), products, shoots)

    async def _products_of(
        self, images: Sequence[Image], shoots: dict[str, Shoot]
    ) -> dict[str, Product]:
        from qamera_desktop.core.export.exporter import product_index

        known = {product.id: product for product in self._window.filters.products}
        product_id = self._library.server_filter.product_id
        if product_id is not None:
            listed = known.get(product_id)
            return {image.id: listed for image in images} if listed is not None else {}
        found: dict[str, Product] = {}
        for image in images:
            shoot = shoots.get(image.id)
            by_shoot = known.get(shoot.request.product_id) if shoot is not None else None
            product = by_shoot or self._products.get(image.id)
            if product is not None:
                found[image.id] = product
        if len(found) == len(images) or self._client is None:
            return found
        try:  # "All products" and images of other origins: one listing per product
            self._products.update(await product_index(self._client, list(known.values()) or None))
        except (ApiError, ExceptionGroup) as exc:
            log.warning("The images' products are not known: %s", exc)
            self._status.showMessage(f"The images' products could not be listed: {exc}", 8_000)
            return found
        return {**{i.id: p for i in images if (p := self._products.get(i.id))}, **found}

    # -- File → Export… ----------------------------------------------------------------------
    def export(self) -> None:
        """File → Export…: the dialog, filled with the counts of now (a running export's
        dialog is only brought back to the front)."""
        from qamera_desktop.ui.export_dialog import ExportDialog

        dialog = self.export_dialog
        if dialog is None:
            dialog = self.export_dialog = ExportDialog(self._browser.window())
            dialog.startRequested.connect(self._start_export)
            dialog.cancelRequested.connect(lambda: self.cancel(dialog))
        if not self.busy(dialog):
            settings = self._window.settings
            chosen = _choice(settings.export_scope)
            dialog.set_choices(self.counts(list(dialog.choice_buttons)), chosen)
            dialog.set_destination(settings.export_folder or _default_folder())
        self._show(dialog)

    def _start_export(self) -> None:
        dialog = self.export_dialog
        folder = dialog.destination() if dialog is not None else None
        if dialog is None or folder is None or self.busy(dialog):
            return
        choice = dialog.choice()
        self._window._save(export_folder=str(folder), export_scope=choice.value)
        images = self.images(choice)
        dialog.start_preparing()
        self._launch(
            dialog,
            images,
            lambda items: partial(_export_work, items, folder=folder),
            dialog.show_progress,
            self._export_done,
        )

    def _export_done(self, dialog: ExportDialog, result: object) -> None:
        from qamera_desktop.core.export.exporter import ExportResult
        from qamera_desktop.ui.export_dialog import summary

        assert isinstance(result, ExportResult)
        dialog.show_result(result)
        self._status.showMessage(f"Export: {summary(result)}", 15_000)

    # -- File → Contact sheet… ---------------------------------------------------------------
    def contact_sheet(self) -> None:
        """File → Contact sheet…: its options, then the PDF."""
        from qamera_desktop.ui.contact_sheet_dialog import ContactSheetDialog

        dialog = self.sheet_dialog
        if dialog is None:
            dialog = self.sheet_dialog = ContactSheetDialog(self._browser.window())
            dialog.startRequested.connect(self._start_sheet)
            dialog.cancelRequested.connect(lambda: self.cancel(dialog))
        if not self.busy(dialog):
            settings = self._window.settings
            dialog.set_choices(self.counts(list(dialog.choice_buttons)), ImageChoice.PICKS)
            dialog.set_options(settings.contact_sheet_page, settings.contact_sheet_columns)
            folder = Path(settings.export_folder or _default_folder())
            name = f"Contact sheet {datetime.now():%Y-%m-%d}.pdf"
            dialog.set_destination(folder / name)
        self._show(dialog)

    def _start_sheet(self) -> None:
        from qamera_desktop.core.contact_sheet_layout import SheetLayout
        from qamera_desktop.ui.contact_sheet import SheetHeader, counts_text

        dialog = self.sheet_dialog
        path = dialog.destination() if dialog is not None else None
        if dialog is None or path is None or self.busy(dialog):
            return
        if self.originals is None:
            dialog.show_failure("Not connected yet: there is nothing to put on a sheet.")
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
            dialog.set_destination(path)
        choice = dialog.choice()
        layout = SheetLayout.create(dialog.page(), dialog.columns())
        self._window._save(contact_sheet_page=layout.page, contact_sheet_columns=layout.columns)
        images = self.images(choice)
        dialog.start_preparing()
        title, account, originals = SHEET_TITLES[choice], self.account, self.originals

        def work(items: list[ExportItem]) -> Work:
            header = SheetHeader(title, account, datetime.now().astimezone(), counts_text(items))
            return partial(
                _sheet_work, items=items, path=path, layout=layout, header=header,
                originals=originals,
            )  # fmt: skip

        self._launch(dialog, images, work, dialog.show_progress, self._sheet_done)

    def _sheet_done(self, dialog: ContactSheetDialog, result: object) -> None:
        from qamera_desktop.ui.contact_sheet import SheetResult

        assert isinstance(result, SheetResult)
        dialog.show_result(result)
        if not result.cancelled:
            self._status.showMessage(f"Contact sheet written: {result.path}", 15_000)

    # -- running a job -----------------------------------------------------------------------
    def busy(self, dialog: JobDialog) -> bool:
        """A job of `dialog` is being prepared or running."""
        return dialog in self._preparing or dialog in self.jobs

    def _launch[D: JobDialog](
        self,
        dialog: D,
        images: list[Image],
        work: Callable[[list[ExportItem]], Work],
        progress: Callable[[Any], None],
        done: Callable[[D, object], None],
    ) -> None:
        """Gather the items of `images` on the GUI loop (their products may need the API),
        then run `work(items)` on a thread of its own: its reports go to `progress`, its result
        to `done(dialog, result)`."""

        async def prepare() -> None:
            items = await self.items(images)
            job = self.jobs[dialog] = ThreadJob(dialog.thread_name, self)
            job.progressed.connect(progress)
            job.succeeded.connect(lambda result: done(dialog, result))
            job.failed.connect(lambda exc: self._job_failed(dialog, exc))
            job.ended.connect(lambda: self._job_ended(dialog, job))
            job.start(work(items))

        task = self._window.tasks.start(prepare(), dialog.windowTitle())
        self._preparing[dialog] = task
        task.add_done_callback(lambda t: self._prepared(dialog, t))

    def _prepared(self, dialog: JobDialog, task: asyncio.Task[None]) -> None:
        self._preparing.pop(dialog, None)
        if not shiboken6.isValid(dialog):
            return  # the window is gone
        if task.cancelled():
            dialog.show_failure("Cancelled.")
        elif (exc := task.exception()) is not None:
            dialog.show_failure(f"Could not start: {exc}")

    def _job_failed(self, dialog: JobDialog, exc: object) -> None:
        log.error("%s failed", dialog.windowTitle(), exc_info=cast(BaseException, exc))
        dialog.show_failure(f"{dialog.windowTitle()} failed: {_reason(exc)}")
        self._status.showMessage(f"{dialog.windowTitle()} failed: {_reason(exc)}", 15_000)

    def _job_ended(self, dialog: JobDialog, job: ThreadJob) -> None:
        if self.jobs.get(dialog) is job:
            del self.jobs[dialog]
        job.deleteLater()

    def cancel(self, dialog: JobDialog) -> None:
        """Stop what `dialog` started: what is complete is kept."""
        task = self._preparing.get(dialog)
        if task is not None:
            task.cancel()
        job = self.jobs.get(dialog)
        if job is not None:
            job.cancel()

    def cancel_all(self) -> None:
        for dialog in [*self._preparing, *self.jobs]:
            self.cancel(dialog)

    async def aclose(self) -> None:
        """Cancel every job and wait until their threads have ended (files complete)."""
        self.cancel_all()
        for job in list(self.jobs.values()):
            await job.wait()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.cancel_all()  # closing the window stops exports (their files stay complete)
        return False

    def _show(self, dialog: JobDialog) -> None:
        if dialog.isVisible():
            dialog.raise_()  # back in front of the window
        dialog.show()
        dialog.activateWindow()

    # -- dragging images out as files --------------------------------------------------------
    def files_for_drag(self, images: Sequence[Image]) -> list[Path]:
        """The complete files of `images` for a drag, downloaded first when the cache does not
        have them (with a progress dialog after `DRAG_PROGRESS_AFTER_MS`, and Cancel): an empty
        list when there is nothing to drop."""
        from qamera_desktop.ui.originals_cache import cached

        folder = self.originals
        if folder is None:
            self._status.showMessage("Not connected yet: no image to drag.", 5_000)
            return []
        wanted = [image for image in images if image.is_done and image.thumbnail]
        if not wanted:
            self._status.showMessage("Only finished images can be dragged out.", 5_000)
            return []
        missing = [image for image in wanted if cached(folder, image) is None]
        if missing:
            fetched = self._fetch_waiting(folder, missing)
            if fetched is None or fetched.cancelled:
                self._status.showMessage("Drag cancelled.", 5_000)
                return []
            if fetched.failures:
                reason = next(iter(fetched.failures.values()))
                self._status.showMessage(
                    f"{len(fetched.failures)} of {len(wanted)} images could not be downloaded "
                    f"({reason}); dragging the others.",
                    10_000,
                )
        paths = [path for image in wanted if (path := cached(folder, image)) is not None]
        if missing and paths and not QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._status.showMessage("The images are ready: drag them again to drop them.", 8_000)
        return paths

    def _fetch_waiting(self, folder: Path, images: list[Image]) -> Fetched | None:
        """Download `images` on a thread while the GUI keeps painting (a local event loop, as
        a drag itself runs one), with a progress dialog if it takes more than a moment."""
        job = ThreadJob("qamera-drag", self)
        waiting = QEventLoop(self)
        box = QProgressDialog(
            f"Getting {len(images):,} images ready to drop…",
            "Cancel",
            0,
            len(images),
            self._browser.window(),
        )
        box.setWindowTitle("Drag")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setMinimumDuration(DRAG_PROGRESS_AFTER_MS)
        box.setValue(0)  # starts the clock: shown once the minimum duration has passed
        outcome: list[Fetched] = []
        job.progressed.connect(lambda done: box.setValue(cast(int, done)))
        job.succeeded.connect(lambda fetched: outcome.append(cast("Fetched", fetched)))
        job.failed.connect(lambda exc: log.error("Drag download failed: %r", exc))
        job.ended.connect(waiting.quit)
        box.canceled.connect(job.cancel)
        job.start(partial(_fetch_work, folder=folder, images=images))
        if job.running:
            waiting.exec()
        box.canceled.disconnect(job.cancel)
        box.close()
        box.deleteLater()
        job.deleteLater()
        return outcome[0] if outcome else None

    # -- Edit menu ---------------------------------------------------------------------------
    def copy_ids(self) -> None:
        """The ids of the selected images (or the current one), one per line."""
        self._copy("ID", [image_id for image_id in self._browser.targets()])

    def copy_urls(self) -> None:
        """The URLs of the selected images (or the current one), one per line."""
        urls = [
            image.thumbnail
            for image_id in self._browser.targets()
            if (image := self._library.get(image_id)) is not None and image.thumbnail
        ]
        self._copy("URL", urls)

    def _copy(self, what: str, lines: list[str]) -> None:
        if not lines:
            self._status.showMessage(f"No image to copy the {what} of.", 5_000)
            return
        QGuiApplication.clipboard().setText("\n".join(lines))
        many = f"{len(lines)} {what}s" if len(lines) > 1 else f"the {what}"
        self._status.showMessage(f"Copied {many}.", 5_000)


# -- the work of the jobs (on their threads) ---------------------------------------------------
async def _export_work(
    items: list[ExportItem], context: JobContext, *, folder: Path
) -> ExportResult:
    from qamera_desktop.core.export.exporter import export_images

    return await export_images(items, folder, progress=context.report, cancel=context.cancel)


async def _sheet_work(
    context: JobContext,
    *,
    items: list[ExportItem],
    path: Path,
    layout: SheetLayout,
    header: SheetHeader,
    originals: Path,
) -> SheetResult:
    from qamera_desktop.ui.contact_sheet import write_contact_sheet

    return await write_contact_sheet(
        items, path, layout, header, originals=originals, context=context
    )


async def _fetch_work(context: JobContext, *, folder: Path, images: list[Image]) -> Fetched:
    from qamera_desktop.core.export.exporter import make_export_client
    from qamera_desktop.ui.originals_cache import fetch_all

    async with make_export_client() as http:
        return await fetch_all(
            http,
            folder,
            images,
            cancel=context.cancel,
            progress=lambda done, _total: context.report(done),
        )


def _choice(value: str) -> ImageChoice | None:
    try:
        return ImageChoice(value)
    except ValueError:
        return None


def _default_folder() -> str:
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return str(Path(pictures or Path.home()) / "Qamera")


def _reason(exc: object) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
