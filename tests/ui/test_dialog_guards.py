"""The New shoot dialog sends one POST however fast the designer clicks, and cannot be closed
while that POST is out (closing would cut it off and leave a shoot that may or may not exist)."""

import asyncio

from PySide6.QtCore import Qt

from qamera_desktop.api.records import Product
from qamera_desktop.ui.new_shoot_dialog import NewShootDialog


class NoCatalogue:
    async def list_products(self):
        return []

    async def list_models(self, status_filter="all"):
        return []

    async def list_sceneries(self, status_filter="all"):
        return []

    async def list_presets(self, max_records=None):
        return []


def test_double_submit_sends_once_and_esc_waits(qtbot, qt_loop, arun):
    calls = []
    release = asyncio.Event()

    async def submit(request, name):
        calls.append(request)
        await release.wait()

    product = Product("prod_1", "Tote", None, "UPLOADED", None)
    dialog = NewShootDialog(NoCatalogue(), submit, products=[product], product_id="prod_1")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.submit_button.isEnabled)
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)  # same event-loop pass
    qtbot.waitUntil(lambda: len(calls) == 1)
    # not closed under the POST: Esc says to wait, and the dialog stays until the answer
    with qtbot.assertNotEmitted(dialog.finished):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible()
        assert "wait" in dialog.error.text()
    with qtbot.waitSignal(dialog.finished):
        release.set()
    assert not dialog.isVisible()
    assert len(calls) == 1
    arun(dialog.aclose())
