"""The Shoots panel follows real shoots on the sandbox, and offers the right actions per state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from qamera_desktop.api.records import ShootReceipt
from qamera_desktop.api.shoot_request import ShootRequest
from qamera_desktop.core.account import account_id
from qamera_desktop.core.database import Database
from qamera_desktop.core.shoot_service import SENT_BUT_UNANSWERED
from qamera_desktop.core.shoot_store import ShootStore
from qamera_desktop.core.shoots import SAFE_TO_RESUBMIT, Shoot, ShootState
from qamera_desktop.ui.shoots_panel import PROGRESS_COLUMN, STATE_TEXT, ShootsPanel
from tests.ui.helpers import LISTING, click, wait_finished

STATE_COLUMN = 6
# The QTreeWidget's own model is checked with pytest-qt's Python tester: with the C++
# QAbstractItemModelTester on it, the *next* test segfaulted (PySide6 6.12, reproducible).


def bar_of(panel: ShootsPanel, row: int = 0) -> QProgressBar:
    bar = panel.tree.itemWidget(panel.tree.topLevelItem(row), PROGRESS_COLUMN)
    assert isinstance(bar, QProgressBar)
    return bar


def record_panel(app) -> list[tuple[int, int, str, str]]:
    """(bar value, bar maximum, bar text, state text) of the newest shoot after every change."""
    seen: list[tuple[int, int, str, str]] = []
    panel = app.window.shoots_panel

    def note(_shoot: Shoot) -> None:
        bar = bar_of(panel)
        seen.append((bar.value(), bar.maximum(), bar.format(), panel.tree.topLevelItem(0).text(6)))

    app.after_change.append(note)
    return seen


def test_progress_text_and_bar_follow_the_shoot_to_finished(
    qtbot, make_app, sandbox_factory, arun, qtmodeltester
):
    slow = sandbox_factory(processing_seconds=0.4, worker_concurrency=1)
    app = make_app(handle=slow, max_interval=0.15)
    window, panel = app.window, app.window.shoots_panel
    assert panel.shoot_ids() == []
    assert not panel.run_again.isEnabled()
    assert not panel.cancel.isEnabled()
    seen = record_panel(app)

    arun(window.submit_shoot(ShootRequest("prod_mug06", count=3), "Stoneware Mug"))
    shoot = app.service.shoots()[0]
    assert window.shoots_dock.isVisible()
    assert panel.cancel.isEnabled()  # tracking
    wait_finished(qtbot, app, shoot.local_id)

    assert seen[0] == (0, 1, "waiting for the receipt", STATE_TEXT[ShootState.SUBMITTING])
    assert seen[1] == (0, 3, "0 done, 3 processing of 3", STATE_TEXT[ShootState.TRACKING])
    assert seen[-1] == (3, 3, "3 done of 3", STATE_TEXT[ShootState.FINISHED])
    values = [value for value, *_ in seen]
    assert values == sorted(values)
    middle = [text for value, _, text, _ in seen if 0 < value < 3]
    assert middle, f"no progress seen between start and end: {seen}"
    assert all(" done, " in text and "processing of 3" in text for text in middle)

    item = panel.tree.topLevelItem(0)
    assert item.text(0) == "Stoneware Mug"
    assert item.text(2) == "3"
    assert item.text(3) == "9 reserved"
    assert item.text(4).startswith("batch_")
    assert panel.detail.text() == "3 images ready"
    assert not panel.cancel.isEnabled()  # nothing left to cancel
    assert panel.run_again.isEnabled()
    assert not panel.check.isVisible()
    assert not panel.submit_again.isVisible()
    status = window.statusBar().currentMessage()
    assert status == "Shoot finished: Stoneware Mug. 3 images ready"
    qtmodeltester.check(panel.tree.model(), force_py=True)


def test_failed_images_are_reported_with_their_refund(qtbot, make_app, sandbox_factory, arun):
    failing = sandbox_factory(failure_rate=1.0)
    app = make_app(handle=failing)
    window, panel = app.window, app.window.shoots_panel
    balance = failing.ledger().account("acct_demo").balance

    arun(window.submit_shoot(ShootRequest("prod_run03", count=2), "Running Shoes"))
    shoot = app.service.shoots()[0]
    wait_finished(qtbot, app, shoot.local_id)

    bar = bar_of(panel)
    assert (bar.value(), bar.maximum(), bar.format()) == (2, 2, "0 done, 2 failed of 2")
    assert panel.tree.topLevelItem(0).text(STATE_COLUMN) == "Finished"
    assert panel.detail.text() == "No images ready, 2 failed (credits refunded)"
    assert window.statusBar().currentMessage() == (
        "Shoot finished: Running Shoes. No images ready, 2 failed (credits refunded)"
    )
    ledger = failing.ledger().account("acct_demo")
    assert ledger.balance == balance  # reserved 6, refunded 6
    qtbot.waitUntil(lambda: all(window.library.get(i).is_failed for i in shoot.record_ids))


def test_cancel_tracking_is_offered_only_while_tracking(qtbot, make_app, sandbox_factory, arun):
    slow = sandbox_factory(processing_seconds=60.0)
    app = make_app(handle=slow)
    window, panel = app.window, app.window.shoots_panel
    assert not panel.cancel.isEnabled()

    arun(window.submit_shoot(ShootRequest("prod_wtee01", count=1), "White T-Shirt"))
    shoot = app.service.shoots()[0]
    assert app.service.get(shoot.local_id).state is ShootState.TRACKING
    assert panel.cancel.isEnabled()
    assert panel.tree.topLevelItem(0).text(STATE_COLUMN) == "Processing"

    click(qtbot, panel.cancel)
    assert app.service.get(shoot.local_id).state is ShootState.CANCELLED
    assert panel.tree.topLevelItem(0).text(STATE_COLUMN) == "Tracking cancelled"
    assert not panel.cancel.isEnabled()
    assert panel.run_again.isEnabled()
    assert panel.detail.text() == "Tracking stopped at 0 of 1 done (Qamera keeps processing)"
    assert window.statusBar().currentMessage().startswith("Tracking cancelled.")
    assert not app.service.get(shoot.local_id).is_active


def make_shoot(state: ShootState, error: str | None = None, minutes_ago: int = 0) -> Shoot:
    return Shoot(
        local_id=uuid.uuid4().hex,
        account="acct_test",
        request=ShootRequest("prod_vase04", model_id="model_ava", count=4),
        product_name="Ceramic Vase",
        state=state,
        created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        error=error,
    )


def test_uncertain_shoot_offers_check_again_then_submit_again_once_it_is_safe(qtbot, qtmodeltester):
    panel = ShootsPanel()
    qtbot.addWidget(panel)
    panel.show()
    may_exist = make_shoot(
        ShootState.UNCERTAIN, SENT_BUT_UNANSWERED.format(cause="read timeout"), minutes_ago=5
    )
    tracking = make_shoot(ShootState.TRACKING, minutes_ago=10)
    tracking = Shoot(
        **{
            **{f: getattr(tracking, f) for f in Shoot.__dataclass_fields__},
            "receipt": ShootReceipt(("img_a", "img_b"), "batch_1", "order_1", "res_1", 6.0),
            "statuses": {"img_a": "DONE", "img_b": "PROCESSING"},
        }
    )
    panel.set_shoots([may_exist, tracking])  # newest first
    assert panel.shoot_ids() == [may_exist.local_id, tracking.local_id]
    qtmodeltester.check(panel.tree.model(), force_py=True)  # and re-checked on every change

    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    assert panel.tree.topLevelItem(0).text(STATE_COLUMN) == "May exist: checking"
    assert panel.check.isVisible()
    assert not panel.submit_again.isVisible()  # not before a check found nothing
    assert panel.cancel.isEnabled()  # an uncertain shoot is followed too: it can be let go
    assert panel.detail.text() == may_exist.error
    with qtbot.waitSignal(panel.checkRequested) as checked:
        click(qtbot, panel.check)
    assert checked.args == [may_exist.local_id]

    safe = Shoot(
        **{
            **{f: getattr(may_exist, f) for f in Shoot.__dataclass_fields__},
            "error": SAFE_TO_RESUBMIT,
        }
    )
    panel.update_shoot(safe)
    assert panel.check.isVisible()
    assert panel.submit_again.isVisible()
    assert panel.detail.text() == SAFE_TO_RESUBMIT
    with qtbot.waitSignal(panel.submitAgainRequested) as again:
        click(qtbot, panel.submit_again)
    assert again.args == [safe]

    # the other shoot: tracking, so no check / submit again, but cancel
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Down)
    assert panel.current_shoot() == tracking
    assert not panel.check.isVisible()
    assert not panel.submit_again.isVisible()
    assert panel.cancel.isEnabled()
    assert bar_of(panel, 1).format() == "1 done, 1 processing of 2"
    assert (bar_of(panel, 1).value(), bar_of(panel, 1).maximum()) == (1, 2)
    with qtbot.waitSignal(panel.cancelRequested) as cancelled:
        click(qtbot, panel.cancel)
    assert cancelled.args == [tracking.local_id]


def test_shoots_from_last_time_are_listed_at_start(qtbot, make_app, sandbox, tmp_path):
    database_path = tmp_path / "history.sqlite3"
    account = account_id(sandbox.base_url, sandbox.demo_key)
    finished = Shoot(
        local_id=uuid.uuid4().hex,
        account=account,
        request=ShootRequest("prod_mug06", count=2),
        product_name="Stoneware Mug",
        state=ShootState.FINISHED,
        created_at=datetime.now(UTC) - timedelta(days=1),
        receipt=ShootReceipt(("img_old1", "img_old2"), "batch_old", "order_old", "res_old", 6.0),
        statuses={"img_old1": "DONE", "img_old2": "FAILED"},
        finished_at=datetime.now(UTC) - timedelta(days=1),
    )
    with Database(database_path) as database:
        ShootStore(database).save(finished)

    app = make_app(database_path=database_path)
    panel = app.window.shoots_panel
    assert app.window.shoots_dock.isVisible()
    assert panel.shoot_ids() == [finished.local_id]
    assert panel.tree.topLevelItem(0).text(STATE_COLUMN) == "Finished"
    assert bar_of(panel).format() == "1 done, 1 failed of 2"
    assert panel.detail.text() == "1 image ready, 1 failed (credits refunded)"
    assert not panel.cancel.isEnabled()
    assert panel.run_again.isEnabled()
    # a finished shoot is not polled again
    assert app.service.get(finished.local_id).state is ShootState.FINISHED


def test_an_uncertain_shoot_from_last_time_is_checked_and_can_be_submitted_again(
    qtbot, make_app, sandbox, tmp_path
):
    database_path = tmp_path / "remembered.sqlite3"
    request = ShootRequest("prod_tote02", model_id="model_malik", industry="bags", count=2)
    with Database(database_path) as database:
        ShootStore(database).save(
            Shoot(
                local_id=uuid.uuid4().hex,
                account=account_id(sandbox.base_url, sandbox.demo_key),
                request=request,
                product_name="Leather Tote Bag",
                state=ShootState.UNCERTAIN,
                created_at=datetime.now(UTC),
                error=SENT_BUT_UNANSWERED.format(cause="read timeout"),
            )
        )

    app = make_app(database_path=database_path, wait_loaded=False)
    window, panel = app.window, app.window.shoots_panel
    assert window.shoots_dock.isVisible()  # there are shoots: the panel shows at start
    assert len(panel.shoot_ids()) == 1
    assert panel.check.isVisible()
    # the listing is checked by itself: nothing of this shoot in it, so it is safe to resubmit
    qtbot.waitUntil(lambda: panel.submit_again.isVisible(), timeout=10_000)
    assert panel.detail.text() == SAFE_TO_RESUBMIT
    assert panel.check.isVisible()

    polls = sandbox.stats().count(*LISTING)
    click(qtbot, panel.check)
    qtbot.waitUntil(lambda: sandbox.stats().count(*LISTING) > polls)

    click(qtbot, panel.submit_again)
    dialog = window.new_shoot_dialog
    assert dialog is not None
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.tasks.running == 0)
    assert dialog.request().validate() == request
    assert dialog.model.combo.currentText() == "Malik  ★"
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        click(qtbot, dialog.submit_button)
    assert len(panel.shoot_ids()) == 2
    newest = app.service.shoots()[0]
    assert newest.request == request
    assert newest.state in (ShootState.TRACKING, ShootState.FINISHED)
    assert sandbox.stats().count("POST", "/api/external/image-picker/register-ideas") == 1
