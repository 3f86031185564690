"""The New shoot dialog: builds a register-ideas request from the account's own catalogue,
validates as the designer types, shows the exact JSON body, and submits through a callback."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.errors import (
    ApiError,
    AuthError,
    ForbiddenError,
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from qamera_desktop.api.records import AiModel, Preset, Product, Scenery
from qamera_desktop.api.shoot_request import DEFAULT_COUNT, MAX_COUNT, MIN_COUNT, ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.ui.catalogue_picker import CataloguePicker, PickerItem
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

ICON_SIZE = 48

INDUSTRIES = (
    "fashion",
    "accessories",
    "footwear",
    "jewelry",
    "beauty",
    "home & living",
    "electronics",
    "food & beverage",
    "sports",
)


class Catalogue(Protocol):
    async def list_products(self) -> list[Product]: ...
    async def list_models(self, status_filter: str = "all") -> list[AiModel]: ...
    async def list_sceneries(self, status_filter: str = "all") -> list[Scenery]: ...
    async def list_presets(self, max_records: int | None = None) -> list[Preset]: ...


Submitter = Callable[[ShootRequest, str | None], Awaitable[None]]


def explain(error: ApiError) -> str:
    """What went wrong, in the designer's words, keeping the server's own text."""
    server = error.server_message or str(error)
    match error:
        case ValidationError() if error.status is None:
            return str(error)
        case ValidationError():
            return f"The server refused the request: {server}"
        case AuthError():
            return (
                f"The API key was not accepted ({server}). Set a valid key in "
                "QAMERA_API_KEY or in Settings, then try again."
            )
        case InsufficientCreditsError():
            return f"Not enough credits for this shoot. {server} Lower the image count or top up."
        case ForbiddenError():
            return (
                f"This API key may not start shoots: it lacks the 'content.register' scope "
                f"({server}). Ask your Qamera admin for a key with that scope."
            )
        case NotFoundError():
            return f"{server} Check the product, model, scenery and preset you chose."
        case RateLimitedError():
            return (
                "Qamera is rate limiting this key (60 requests a minute). The shoot was NOT "
                "submitted; wait a few seconds and submit again."
            )
        case NetworkError() if error.request_sent:
            return (
                "The connection dropped after the request was sent: the shoot may have been "
                "created. The app is checking the listing before anything is submitted again."
            )
        case NetworkError():
            return f"Could not reach Qamera: {error}. Nothing was submitted."
        case ServerError():
            return f"Qamera had an internal error ({server}). Nothing was charged; try again."
    return str(error)


class NewShootDialog(QDialog):
    """Non-modal-safe: open() it; it calls `submit` itself and closes on success."""

    submittedOk = QtSignal()

    def __init__(
        self,
        catalogue: Catalogue,
        submit: Submitter,
        *,
        products: Sequence[Product] = (),
        product_id: str | None = None,
        initial: ShootRequest | None = None,
        credits_per_image: float | None = None,
        loader: ThumbnailLoader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        self.setWindowTitle("New shoot")
        self.setMinimumWidth(620)
        self._catalogue = catalogue
        self._submit = submit
        self._credits_per_image = credits_per_image
        self.tasks = BackgroundTasks(lambda what, exc: self._show_error(f"{what} failed: {exc}"))
        self._busy = False

        icon = self._icon if loader is not None else None
        self.product = CataloguePicker(
            "Product", self.tasks, self._load_products, optional=False, icon_for=icon
        )
        self.model = CataloguePicker(
            "AI model", self.tasks, self._load_models, approved_switch=True, icon_for=icon
        )
        self.scenery = CataloguePicker(
            "Scenery", self.tasks, self._load_sceneries, approved_switch=True, icon_for=icon
        )
        self.preset = CataloguePicker("Preset", self.tasks, self._load_presets)
        for picker in (self.product, self.model, self.scenery):
            picker.changed.connect(self._want_icons)
        if loader is not None:
            loader.ready.connect(self._icons_arrived)
        self.industry = QComboBox()
        self.industry.setEditable(True)
        self.industry.setAccessibleName("Industry")
        self.industry.addItem("")
        self.industry.addItems(INDUSTRIES)
        self.industry.setCurrentIndex(1)  # fashion first
        self.suggestions = QPlainTextEdit()
        self.suggestions.setAccessibleName("Suggestions")
        self.suggestions.setPlaceholderText(
            "Creative direction, e.g. Outdoor urban setting, natural lighting"
        )
        self.suggestions.setTabChangesFocus(True)
        self.suggestions.setFixedHeight(80)
        self.count = QSpinBox()
        self.count.setRange(MIN_COUNT, MAX_COUNT)
        self.count.setValue(DEFAULT_COUNT)
        self.count.setAccessibleName("Number of images")
        self.count.setSuffix(" images")
        self.count.valueChanged.connect(
            lambda n: self.count.setSuffix(" image" if n == 1 else " images")
        )

        form = QFormLayout()
        form.addRow("&Product *", self.product)
        form.addRow("AI &model", self.model)
        form.addRow("&Scenery", self.scenery)
        form.addRow("P&reset", self.preset)
        form.addRow("&Industry", self.industry)
        form.addRow("Su&ggestions", self.suggestions)
        form.addRow("&Count", self.count)
        for picker in (self.product, self.model, self.scenery, self.preset):
            label = form.labelForField(picker)
            if isinstance(label, QLabel):
                label.setBuddy(picker.combo)

        self.cost = QLabel()
        self.cost.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setObjectName("problems")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #e03131")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        self.body_toggle = QToolButton()
        self.body_toggle.setText("Request body (JSON)")
        self.body_toggle.setCheckable(True)
        self.body_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.body_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.body_toggle.toggled.connect(self._toggle_body)
        self.body = QPlainTextEdit()
        self.body.setReadOnly(True)
        self.body.setAccessibleName("Request body")
        self.body.setFixedHeight(170)
        self.body.hide()

        self.buttons = QDialogButtonBox()
        self.submit_button = QPushButton("Submit shoot")
        self.submit_button.setDefault(True)
        self.buttons.addButton(self.submit_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_submit)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._on_submit)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.cost)
        layout.addWidget(self.problems)
        layout.addWidget(self.error)
        layout.addWidget(self.body_toggle)
        layout.addWidget(self.body)
        layout.addWidget(self.buttons)

        for picker in (self.product, self.model, self.scenery, self.preset):
            picker.changed.connect(self.revalidate)
        self.industry.editTextChanged.connect(lambda _t: self.revalidate())
        self.suggestions.textChanged.connect(self.revalidate)
        self.count.valueChanged.connect(lambda _v: self.revalidate())

        if products:
            self.product.set_items([_product_item(p) for p in products])
        else:
            self.product.reload()
        for picker in (self.model, self.scenery, self.preset):
            picker.reload()
        if initial is not None:
            self.fill(initial)
        elif product_id:
            self.product.select_id(product_id)
        self.revalidate()

    # -- loading the pickers -----------------------------------------------------------------
    def _icon(self, url: str) -> QIcon | None:
        pixmap = self._loader.pixmap(url, ICON_SIZE) if self._loader is not None else None
        return QIcon(pixmap) if pixmap is not None else None

    def _want_icons(self) -> None:
        if self._loader is not None:
            urls = [u for p in (self.product, self.model, self.scenery) for u in p.thumbnails()]
            self._loader.set_wanted("pickers", urls, ICON_SIZE)

    def _icons_arrived(self, _urls: list[str]) -> None:
        for picker in (self.product, self.model, self.scenery):
            picker.refresh_icons()

    async def _load_products(self, _all: bool) -> list[PickerItem]:
        return [_product_item(p) for p in await self._catalogue.list_products()]

    async def _load_models(self, show_all: bool) -> list[PickerItem]:
        models = await self._catalogue.list_models("all" if show_all else "approved")
        return [
            PickerItem(m.id, m.name, m.status, (m.voting or "").upper() == "APPROVED", m.thumbnail)
            for m in models
        ]

    async def _load_sceneries(self, show_all: bool) -> list[PickerItem]:
        sceneries = await self._catalogue.list_sceneries("all" if show_all else "approved")
        return [
            PickerItem(s.id, s.name, s.status, (s.voting or "").upper() == "APPROVED", s.thumbnail)
            for s in sceneries
        ]

    async def _load_presets(self, _all: bool) -> list[PickerItem]:
        presets = await self._catalogue.list_presets()
        return [
            PickerItem(p.id, p.name, "\n".join(filter(None, [p.guidelines, p.quality_guidelines])))
            for p in presets
        ]

    # -- the request -------------------------------------------------------------------------
    def fill(self, request: ShootRequest) -> None:
        self.product.select_id(request.product_id)
        self.model.select_id(request.model_id)
        self.scenery.select_id(request.scenery_id)
        self.preset.select_id(request.preset_id)
        self.industry.setEditText(request.industry or "")
        self.suggestions.setPlainText(request.suggestions or "")
        self.count.setValue(request.count)

    def request(self) -> ShootRequest:
        return ShootRequest(
            product_id=self.product.current_id() or "",
            model_id=self.model.current_id(),
            scenery_id=self.scenery.current_id(),
            preset_id=self.preset.current_id(),
            industry=self.industry.currentText(),
            suggestions=self.suggestions.toPlainText(),
            count=self.count.value(),
        )

    def product_name(self) -> str | None:
        index = self.product.combo.currentIndex()
        if index >= 0 and self.product.combo.itemData(index) == self.product.current_id():
            return self.product.combo.itemText(index)
        return None

    def revalidate(self) -> bool:
        try:
            body = self.request().to_body()
        except ValidationError as exc:
            self.problems.setText(str(exc))
            self.problems.show()
            self.body.setPlainText("(not valid yet)")
            self.submit_button.setEnabled(False)
            self._update_cost()
            return False
        self.problems.hide()
        self.body.setPlainText(json.dumps(body, indent=2, ensure_ascii=False))
        self.submit_button.setEnabled(not self._busy)
        self._update_cost()
        return True

    def _update_cost(self) -> None:
        n = self.count.value()
        if self._credits_per_image is None:
            self.cost.setText(
                "Credits are reserved by Qamera when you submit and refunded for images that "
                "fail; the exact reservation shows after submitting."
            )
        else:
            estimate = self._credits_per_image * n
            self.cost.setText(
                f"Estimated cost: about {estimate:g} credits ({self._credits_per_image:g} per "
                "image, an estimate from this account's previous shoots). Failed images are "
                "refunded."
            )

    def _toggle_body(self, shown: bool) -> None:
        self.body.setVisible(shown)
        self.body_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.adjustSize()

    # -- submitting --------------------------------------------------------------------------
    def _on_submit(self) -> None:
        if self._busy or not self.revalidate():
            return
        self._set_busy(True)  # now, not in the task: a second click must not POST again
        self.tasks.start(self._do_submit(), "Submitting the shoot")

    def reject(self) -> None:
        """Esc / Cancel / close: refused while the POST is out (it would be cut off midway,
        leaving a shoot that may or may not exist)."""
        if self._busy:
            self._show_error("Submitting… wait for Qamera's answer before closing.")
            return
        super().reject()

    async def _do_submit(self) -> None:
        self.error.hide()
        try:
            await self._submit(self.request().validate(), self.product_name())
        except ApiError as exc:
            self._show_error(explain(exc))
            return
        finally:
            self._set_busy(False)
        self.submittedOk.emit()
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.submit_button.setText("Submitting…" if busy else "Submit shoot")
        for w in (self.product, self.model, self.scenery, self.preset, self.industry):
            w.setEnabled(not busy)
        self.suggestions.setReadOnly(busy)
        self.count.setEnabled(not busy)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setEnabled(not busy)
        self.revalidate()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    async def aclose(self) -> None:
        if self._loader is not None:
            self._loader.set_wanted("pickers", [], ICON_SIZE)
        await self.tasks.cancel_all()


def _product_item(p: Product) -> PickerItem:
    return PickerItem(p.id, p.name, p.status, thumbnail=p.thumbnail)
