"""The grid model mirrors the library and survives refreshes without losing the user's place."""

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.image_query import ServerFilter, SortOrder
from qamera_desktop.ui.image_grid_model import ImageGridModel, ImageRole
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def img(i: int, status: str = "DONE", name: str | None = None) -> Image:
    return Image(
        id=f"img_{i:05d}",
        name=name or f"Shot {i}",
        thumbnail=f"http://127.0.0.1:9/t/{i}.jpg",
        status=status,
        created_at=T0 + timedelta(minutes=i),
    )


@pytest.fixture
def loader(tmp_path, arun):
    loader = ThumbnailLoader(tmp_path / "thumbs")
    yield loader
    arun(loader.aclose())


def test_model_passes_qtmodeltester_through_patches(qtmodeltester):
    library = ImageLibrary()
    model = ImageGridModel(library)
    f = ServerFilter()
    library.replace_listing(f, [img(i) for i in range(20)])
    qtmodeltester.check(model)
    library.replace_listing(f, [img(i, "FAILED" if i == 3 else "DONE") for i in range(5, 30)])
    qtmodeltester.check(model)
    library.set_search("Shot 2")
    qtmodeltester.check(model)
    names = [model.data(model.index(r)) for r in range(model.rowCount())]
    assert names  # every word must match: "Shot 20" .. "Shot 29" and "Shot 12", "Shot 22"
    assert all("2" in name for name in names)
    assert "Shot 5" not in names
    library.set_sort(SortOrder.NAME)
    qtmodeltester.check(model)


def test_roles_expose_the_record():
    library = ImageLibrary()
    model = ImageGridModel(library)
    library.replace_listing(ServerFilter(), [img(1, "PROCESSING")])
    index = model.index(0)
    assert model.data(index, ImageRole.ID) == "img_00001"
    assert model.data(index, ImageRole.PROGRESS) == "in_progress"
    assert model.data(index, ImageRole.APPROVED) is False
    assert model.data(index, Qt.ItemDataRole.AccessibleTextRole) == "Shot 1, PROCESSING"
    assert model.data(model.index(5), ImageRole.ID) is None


def test_refresh_keeps_selection_current_and_scroll(qtbot, loader):
    library = ImageLibrary()
    model = ImageGridModel(library)
    view = ImageGridView(model, loader)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    f = ServerFilter()
    library.replace_listing(f, [img(i) for i in range(500)])
    # the batched layout has placed the last item
    qtbot.waitUntil(lambda: view.visualRect(model.index(499)).isValid())

    current_id = "img_00250"
    row = model.row_of(current_id)
    view.setCurrentIndex(model.index(row))
    view.selectionModel().select(model.index(row + 1), QItemSelectionModel.SelectionFlag.Select)
    view.scrollTo(model.index(row))
    scroll_before = view.verticalScrollBar().value()
    top_before = view.indexAt(view.viewport().rect().center()).data(ImageRole.ID)
    assert scroll_before > 0

    # refresh: remove the newest 3 (above, rows 0-2), add 3 even newer, change one, delete one
    # below; the net count above the current item stays the same
    listing = [img(i) for i in range(500) if i not in (497, 498, 499, 10)]
    listing += [img(i) for i in (600, 601, 602)]
    listing = [img(251, "FAILED") if x.id == "img_00251" else x for x in listing]
    library.replace_listing(f, listing)

    assert view.currentIndex().data(ImageRole.ID) == current_id
    selected = {i.data(ImageRole.ID) for i in view.selectionModel().selectedIndexes()}
    assert selected == {current_id, "img_00249"}  # row + 1 in newest-first order
    assert view.verticalScrollBar().value() == scroll_before
    center = view.viewport().rect().center()

    def same_place() -> bool:  # once the batched layout has caught up
        return (
            view.verticalScrollBar().value() == scroll_before
            and view.indexAt(center).data(ImageRole.ID) == top_before
        )

    qtbot.waitUntil(same_place, timeout=3000)
    # from here nothing moves, not for a moment either: not while the batched layout finishes,
    # nor through the view's settling window after it (400 ms; longer here)
    with qtbot.assertNotEmitted(view.verticalScrollBar().valueChanged, wait=600):
        qtbot.waitUntil(lambda: view.visualRect(model.index(model.rowCount() - 1)).isValid())
    assert same_place()
    assert model.data(model.index(model.row_of("img_00251")), ImageRole.STATUS) == "FAILED"


def test_visible_rows_match_the_painted_cells(qtbot, loader):
    library = ImageLibrary()
    model = ImageGridModel(library)
    view = ImageGridView(model, loader)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    library.replace_listing(ServerFilter(), [img(i) for i in range(1000)])
    qtbot.waitUntil(lambda: view.visualRect(model.index(999)).isValid())  # layout done
    view.verticalScrollBar().setValue(3000)
    rows = view.visible_rows()
    assert len(rows) > 0
    viewport = view.viewport().rect()
    for row in (rows.start, rows.stop - 1):
        assert view.visualRect(model.index(row)).intersects(viewport)
    assert rows.start > 0
    assert not view.visualRect(model.index(rows.start - 1)).intersects(viewport)
    assert not view.visualRect(model.index(rows.stop)).intersects(viewport)
