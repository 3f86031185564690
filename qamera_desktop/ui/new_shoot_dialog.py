"""The New shoot dialog: builds a register-ideas request from the account's own catalogue,
validates as the designer types, shows the exact JSON body, and submits through a callback.

Every message has its own reserved place (under each picker, beside the count, and two fixed areas
under the form), so no field ever moves when a message appears or goes. Each place shows one state
at a time. With a `ShootMemory`, the choices last used with a product are preselected when that
product is chosen, the cost is estimated from the account's stored receipts, and the balance a 402
stated is remembered. The industry and the count start as Preferences set them (`ShootDefaults`),
unless the request to show or the product's memory says otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import Enum, auto

from PySide6.QtCore import QEvent, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
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
from qamera_desktop.api.records import Product
from qamera_desktop.api.shoot_request import MAX_COUNT, MIN_COUNT, ShootRequest
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.shoot_defaults import INDUSTRIES, Catalogue, ShootDefaults
from qamera_desktop.core.shoot_memory import (
    NOTHING_CHOSEN,
    KnownBalance,
    ShootMemory,
    available_credits,
)
from qamera_desktop.core.shoot_store import utc_now
from qamera_desktop.ui.catalogue_picker import (
    CataloguePicker,
    MessageLine,
    PickerItem,
    Tone,
    network_reason,
    plain_error,
    sentence,
)
from qamera_desktop.ui.theme import error_colour
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

log = logging.getLogger(__name__)

ICON_SIZE = 48

NOT_VALID_YET = "(not valid yet)"
COST_LINES = 2
ERROR_LINES = 3


Submitter = Callable[[ShootRequest, str | None], Awaitable[None]]


def explain(error: ApiError) -> str:
    """What went wrong, in the designer's words, keeping the server's own text (never the
    client's technical detail: that goes to the log)."""
    server = sentence(error.server_message or str(error))
    inner = server.rstrip(".")  # inside parentheses, before the sentence's own full stop
    match error:
        case ValidationError() if error.status is None:
            return str(error)
        case ValidationError():
            return f"The server refused the request: {server}"
        case AuthError():
            return (
                f"The API key was not accepted ({inner}). Set a valid key in "
                "QAMERA_API_KEY or in Settings, then try again."
            )
        case InsufficientCreditsError():
            return f"Not enough credits for this shoot. {server} Lower the image count or top up."
        case ForbiddenError():
            return (
                f"This API key may not start shoots: it lacks the 'content.register' scope "
                f"({inner}). Ask your Qamera admin for a key with that scope."
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
            return f"Could not reach Qamera ({network_reason(error)}). Nothing was submitted."
        case ServerError():
            return f"Qamera had an internal error ({inner}). Nothing was charged; try again."
    return plain_error(error)


def _number(value: float) -> str:
    """3 -> "3", 3.333 -> "3.33"."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _when(moment: datetime) -> str:
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return f"today {local:%H:%M}"
    return f"{local:%d %b %H:%M}"


class RateSource(Enum):
    RECEIPTS = auto()
    SANDBOX = auto()


class CountBox(QSpinBox):
    """The number of images. Any whole number up to 999 can be typed and stays as typed (the
    dialog shows one out of 1..20 as an error, it is not changed behind the designer's back);
    the arrows and the wheel step within 1..20 (and into it from outside)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 999)
        self.setSuffix(" images")

    def typed(self) -> int | None:
        """The number in the box; None when it holds none."""
        text = self.cleanText().strip()
        return int(text) if text.isdigit() else None

    def stepBy(self, steps: int) -> None:
        current = self.typed()
        start = current if current is not None else self.value()
        self.setValue(min(max(start + steps, MIN_COUNT), MAX_COUNT))
        self.selectAll()

    def stepEnabled(self) -> QSpinBox.StepEnabledFlag:
        value = self.typed()
        if value is None:
            value = self.value()
        flags = QSpinBox.StepEnabledFlag.StepNone
        if value < MAX_COUNT:
            flags |= QSpinBox.StepEnabledFlag.StepUpEnabled
        if value > MIN_COUNT:
            flags |= QSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


def _reserved_label(lines: int) -> QLabel:
    """A word-wrapped label `lines` lines high whether it holds text or not."""
    label = QLabel()
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 4)
    return label


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
        memory: ShootMemory | None = None,
        sandbox_price_per_image: float | None = None,
        defaults: ShootDefaults | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`memory`: the account's memory in the local database (choices per product, receipts,
        last known balance); without it nothing is remembered and `credits_per_image` (if any)
        is the estimate. `sandbox_price_per_image`: the sandbox's rate when connected to the
        sandbox, for an estimate before the first receipt (None for a real account, whose price
        the API does not publish). `defaults`: the industry and count of a new shoot."""
        super().__init__(parent)
        self._defaults = defaults or ShootDefaults()
        self._loader = loader
        self.setWindowTitle("New shoot")
        self.setMinimumWidth(620)
        self._catalogue = catalogue
        self._submit = submit
        self._memory = memory
        self._rate, self._rate_source = self._find_rate(credits_per_image, sandbox_price_per_image)
        self._balance: KnownBalance | None = memory.balance() if memory is not None else None
        self.tasks = BackgroundTasks(self._task_failed)
        self._busy = False
        self._error_for: ShootRequest | None = None  # the request the shown error is about
        self._touched: set[str] = set()  # fields set by hand (or by `initial`): memory keeps off
        self._choices_for: str | None = None  # the product whose choices were applied

        icon = self._icon if loader is not None else None
        self.product = CataloguePicker(
            "Product", self.tasks, self._load_products, optional=False, strict=True, icon_for=icon
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
        for name, picker in (("model", self.model), ("scenery", self.scenery)):
            picker.edited.connect(lambda n=name: self._touched.add(n))
        self.preset.edited.connect(lambda: self._touched.add("preset"))
        for picker in self.pickers():
            picker.loadSucceeded.connect(self._connection_works)

        self.industry = QComboBox()
        self.industry.setEditable(True)
        self.industry.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.industry.setAccessibleName("Industry")
        self.industry.addItem("")
        self.industry.addItems(INDUSTRIES)
        self.industry.setCurrentIndex(0)  # optional in the API: empty unless remembered or set
        self.industry.setEditText(self._defaults.industry or "")
        industry_edit = self.industry.lineEdit()
        if industry_edit is not None:
            industry_edit.setPlaceholderText("Optional, e.g. footwear")
            industry_edit.textEdited.connect(lambda _t: self._touched.add("industry"))
        self.industry.activated.connect(lambda _i: self._touched.add("industry"))
        self.suggestions = QPlainTextEdit()
        self.suggestions.setAccessibleName("Suggestions")
        self.suggestions.setPlaceholderText(
            "Creative direction, e.g. Outdoor urban setting, natural lighting"
        )
        self.suggestions.setTabChangesFocus(True)
        self.suggestions.setFixedHeight(80)
        self.count = CountBox()
        self.count.setAccessibleName("Number of images")
        self.count.setFixedWidth(self.count.sizeHint().width())  # " images" or " image": same
        self.count.valueChanged.connect(
            lambda n: self.count.setSuffix(" image" if n == 1 else " images")
        )
        self.count.setValue(self._defaults.count)
        self.count_message = MessageLine()
        self.count_message.setObjectName("countMessage")
        count_row = QWidget()
        count_layout = QHBoxLayout(count_row)
        count_layout.setContentsMargins(0, 0, 0, 0)
        count_layout.addWidget(self.count)
        count_layout.addWidget(self.count_message, 1)

        form = QFormLayout()
        form.addRow("&Product *", self.product)
        form.addRow("AI &model", self.model)
        form.addRow("&Scenery", self.scenery)
        form.addRow("P&reset", self.preset)
        form.addRow("&Industry", self.industry)
        form.addRow("Su&ggestions", self.suggestions)
        form.addRow("&Count", count_row)
        buddies: list[tuple[QWidget, QWidget]] = [(p, p.combo) for p in self.pickers()]
        buddies.append((count_row, self.count))
        for field, buddy in buddies:
            label = form.labelForField(field)
            if isinstance(label, QLabel):
                label.setBuddy(buddy)

        self.cost = _reserved_label(COST_LINES)
        self.cost.setObjectName("cost")
        self.error = _reserved_label(ERROR_LINES)
        self.error.setObjectName("error")
        self.error.setStyleSheet(f"color: {error_colour(self.palette())}")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

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
        layout.addWidget(self.error)
        layout.addWidget(self.body_toggle)
        layout.addWidget(self.body)
        layout.addStretch(1)  # room to spare goes here, never between the fields
        layout.addWidget(self.buttons)

        self.product.changed.connect(self._product_changed)
        for picker in self.pickers():
            picker.changed.connect(self.revalidate)
        self.industry.editTextChanged.connect(lambda _t: self.revalidate())
        self.suggestions.textChanged.connect(self.revalidate)
        # both: the spin box's signal is not emitted for an empty (invalid) text, the line
        # edit's not for a value set by the program or by the arrows
        self.count.textChanged.connect(lambda _t: self.revalidate())
        self.count.lineEdit().textChanged.connect(lambda _t: self.revalidate())

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

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        error = getattr(self, "error", None)  # a change can come before it is built
        if event.type() == QEvent.Type.PaletteChange and error is not None:  # light or dark
            error.setStyleSheet(f"color: {error_colour(self.palette())}")

    def pickers(self) -> list[CataloguePicker]:
        return [self.product, self.model, self.scenery, self.preset]

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

    def _connection_works(self) -> None:
        """A list just loaded: lists that failed need not wait for their next try."""
        for picker in self.pickers():
            picker.retry_now()

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

    # -- remembered choices ------------------------------------------------------------------
    def _product_changed(self) -> None:
        """A product was chosen: preselect what was last used with it, in the fields not set
        by hand (the defaults when it was never shot)."""
        product_id = self.product.current_id()
        if product_id is None or product_id == self._choices_for or self._memory is None:
            return
        self._choices_for = product_id
        choices = self._memory.choices(product_id) or NOTHING_CHOSEN
        if "industry" not in self._touched:
            self.industry.setEditText(choices.industry or self._defaults.industry or "")
        wanted = (
            ("model", self.model, choices.model_id),
            ("scenery", self.scenery, choices.scenery_id),
            ("preset", self.preset, choices.preset_id),
        )
        for name, picker, item_id in wanted:
            if name not in self._touched:
                picker.select_id(item_id)

    # -- the request -------------------------------------------------------------------------
    def fill(self, request: ShootRequest) -> None:
        """Show this request (e.g. "Run again"): every field as it was, none from memory."""
        self._touched.update(("industry", "model", "scenery", "preset"))
        self.product.select_id(request.product_id)
        self.model.select_id(request.model_id)
        self.scenery.select_id(request.scenery_id)
        self.preset.select_id(request.preset_id)
        self.industry.setEditText(request.industry or "")
        self.suggestions.setPlainText(request.suggestions or "")
        self.count.setValue(request.count)

    def request(self) -> ShootRequest:
        """The request as the fields hold it (not validated: an empty count is 0)."""
        count = self.count.typed()
        return ShootRequest(
            product_id=self.product.current_id() or "",
            model_id=self.model.current_id(),
            scenery_id=self.scenery.current_id(),
            preset_id=self.preset.current_id(),
            industry=self.industry.currentText(),
            suggestions=self.suggestions.toPlainText(),
            count=count if count is not None else 0,
        )

    def product_name(self) -> str | None:
        item = self.product.current_item()
        return item.name if item is not None else None

    def count_problem(self) -> str | None:
        count = self.count.typed()
        if count is None:
            return f"Enter the number of images, from {MIN_COUNT} to {MAX_COUNT}."
        if not MIN_COUNT <= count <= MAX_COUNT:
            return f"A shoot has {MIN_COUNT} to {MAX_COUNT} images, not {count}."
        return None

    def revalidate(self) -> bool:
        request = self.request()
        if self._error_for is not None and request != self._error_for:
            self._clear_error()  # it was about another request
        count_problem = self.count_problem()
        self.count_message.show_message(count_problem or "", Tone.ERROR)
        body: dict[str, object] | None = None
        if count_problem is None and self.product.current_id() is not None:
            try:
                body = request.to_body()
            except ValidationError:
                body = None
        if body is None:
            self.body.setPlainText(NOT_VALID_YET)
        else:
            self.body.setPlainText(json.dumps(body, indent=2, ensure_ascii=False))
        self.submit_button.setEnabled(body is not None and not self._busy)
        self._update_cost()
        return body is not None

    # -- the cost ----------------------------------------------------------------------------
    def _find_rate(
        self, credits_per_image: float | None, sandbox_price: float | None
    ) -> tuple[float | None, RateSource | None]:
        rate = self._memory.credits_per_image() if self._memory is not None else None
        if rate is None:
            rate = credits_per_image
        if rate is not None:
            return rate, RateSource.RECEIPTS
        if sandbox_price is not None:
            return sandbox_price, RateSource.SANDBOX
        return None, None

    def _update_cost(self) -> None:
        count = None if self.count_problem() is not None else self.count.typed()
        estimate: float | None = None
        if count is None:
            text = (
                f"The cost is estimated once the number of images is from {MIN_COUNT} to "
                f"{MAX_COUNT}."
            )
        elif self._rate is None:
            text = (
                "The cost is shown when you submit: Qamera reserves the credits then, and "
                "refunds the images that fail."
            )
        else:
            estimate = self._rate * count
            source = (
                "from this account's earlier shoots"
                if self._rate_source is RateSource.RECEIPTS
                else "from the demo sandbox's rate"
            )
            text = (
                f"About {round(estimate)} credits, estimated {source} "
                f"({_number(self._rate)} per image). Failed images are refunded."
            )
        balance = self._balance
        if balance is not None:
            known = f"{_number(balance.available)} credits available ({_when(balance.seen_at)})."
            if estimate is not None and estimate > balance.available:
                text += f" That is more than the last known balance: {known}"
            else:
                text += f" Last known balance: {known}"
        self.cost.setText(text)

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
        self._clear_error()
        request = self.request().validate()
        try:
            await self._submit(request, self.product_name())
        except InsufficientCreditsError as exc:
            self._note_balance(exc)
            self._refused(exc)
            return
        except ApiError as exc:
            self._refused(exc)
            return
        except Exception:
            log.exception("Submitting the shoot failed unexpectedly")
            self._show_error(
                "The shoot could not be submitted because of an unexpected error (details in "
                "the log). Check the Shoots panel before submitting again."
            )
            return
        finally:
            self._set_busy(False)
        if self._memory is not None:
            self._memory.remember(request)
        self.submittedOk.emit()
        self.accept()

    def _refused(self, error: ApiError) -> None:
        if isinstance(error, NetworkError):
            log.warning("The shoot was not submitted: %s", error)  # the technical detail
        self._show_error(explain(error))

    def _note_balance(self, error: InsufficientCreditsError) -> None:
        available = available_credits(error.server_message or error.message)
        if available is None:
            return
        if self._memory is not None:
            self._balance = self._memory.remember_balance(available)
        else:
            self._balance = KnownBalance(available, utc_now())
        self._update_cost()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.submit_button.setText("Submitting…" if busy else "Submit shoot")
        for w in (*self.pickers(), self.industry):
            w.setEnabled(not busy)
        self.suggestions.setReadOnly(busy)
        self.count.setEnabled(not busy)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setEnabled(not busy)
        self.revalidate()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setToolTip(text)  # whole, should it ever need more than its reserved lines
        self._error_for = self.request()

    def _clear_error(self) -> None:
        self.error.clear()
        self.error.setToolTip("")
        self._error_for = None

    def _task_failed(self, what: str, _exc: BaseException) -> None:
        self._show_error(f"{what} failed unexpectedly (details in the log).")

    async def aclose(self) -> None:
        for picker in self.pickers():
            picker.stop()
        if self._loader is not None:
            self._loader.set_wanted("pickers", [], ICON_SIZE)
        await self.tasks.cancel_all()


def _product_item(p: Product) -> PickerItem:
    return PickerItem(p.id, p.name, p.status, thumbnail=p.thumbnail)
