from datetime import UTC, datetime, timedelta

from qamera_desktop.api.errors import ServerError
from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter, arrange

T0 = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)


def img(i: int, status: str = "DONE", name: str | None = None, voting: str | None = None):
    return Image(
        id=f"img_{i:03d}",
        name=name or f"Shot {i}",
        thumbnail=f"http://127.0.0.1/t/{i}.jpg",
        status=status,
        created_at=T0 + timedelta(minutes=i),
        voting=voting,
    )


class Recorder:
    def __init__(self):
        self.events = []

    def library_reset(self, images):
        self.events.append(("reset", [i.id for i in images]))

    def library_patched(self, patch, images):
        self.events.append(("patch", patch))

    def library_state_changed(self, state: LibraryState):
        self.events.append(("state", state.load))


class FakeSource:
    """Answers list_images from a dict; raises when told to."""

    def __init__(self, images):
        self.images = images
        self.calls = []
        self.error = None

    async def list_images(self, status_filter="all", product_id=None):
        self.calls.append((status_filter, product_id))
        if self.error:
            raise self.error
        return list(self.images)


def test_arrange_sorts_and_searches():
    images = [img(1, name="Red Tote"), img(2, name="blue tee"), img(3, "FAILED", "Red shoe")]
    assert [i.id for i in arrange(images, "", SortOrder.NEWEST)] == [
        "img_003",
        "img_002",
        "img_001",
    ]
    assert next(i.id for i in arrange(images, "", SortOrder.OLDEST)) == "img_001"
    assert [i.name for i in arrange(images, "", SortOrder.NAME)] == [
        "blue tee",
        "Red shoe",
        "Red Tote",
    ]
    assert next(i.id for i in arrange(images, "", SortOrder.STATUS)) == "img_003"  # failed first
    assert [i.id for i in arrange(images, "RED", SortOrder.NEWEST)] == ["img_003", "img_001"]
    assert [i.id for i in arrange(images, "red tote", SortOrder.NEWEST)] == ["img_001"]


def test_refresh_merges_by_id_and_patches_only_changes(arun):
    source = FakeSource([img(1), img(2, "PROCESSING"), img(3)])
    library = ImageLibrary(source)
    rec = Recorder()
    library.add_listener(rec)
    arun(library.refresh())
    assert [i.id for i in library.images] == ["img_003", "img_002", "img_001"]
    assert library.state.load is LoadState.READY
    assert library.has_unfinished

    rec.events.clear()
    source.images = [img(1), img(2, "DONE"), img(4)]  # 3 removed, 2 finished, 4 added
    arun(library.refresh())
    patches = [e[1] for e in rec.events if e[0] == "patch"]
    assert len(patches) == 1
    patch = patches[0]
    assert patch.removals == [(0, 0)]  # img_003 was row 0
    assert patch.insertions[0][0] == 0  # img_004 newest, row 0
    assert patch.changed == [1]  # img_002 in the new list
    assert not library.has_unfinished
    assert not [e for e in rec.events if e[0] == "reset"]


def test_filter_change_resets_and_ignores_stale_answers(arun):
    source = FakeSource([img(1)])
    library = ImageLibrary(source)
    rec = Recorder()
    library.add_listener(rec)
    assert library.set_filter(ServerFilter("prod_1", StatusFilter.APPROVED))
    assert not library.set_filter(ServerFilter("prod_1", StatusFilter.APPROVED))
    assert rec.events[0] == ("reset", [])
    arun(library.refresh())
    assert source.calls == [("approved", "prod_1")]
    # a listing for another filter (arrived late) is ignored
    library.replace_listing(ServerFilter(None), [img(9)])
    assert [i.id for i in library.images] == ["img_001"]


def test_error_keeps_images_and_reports(arun):
    source = FakeSource([img(1)])
    library = ImageLibrary(source)
    arun(library.refresh())
    source.error = ServerError("Internal server error.", status=500)
    arun(library.refresh())
    assert library.state.load is LoadState.ERROR
    assert "Internal server error" in (library.state.error or "")
    assert [i.id for i in library.images] == ["img_001"]


def test_upsert_respects_filters():
    library = ImageLibrary()
    library.set_filter(ServerFilter("prod_a", StatusFilter.APPROVED))
    library.upsert_for_product("prod_b", [img(1, voting="APPROVED")])
    assert list(library.images) == []
    library.upsert_for_product("prod_a", [img(1), img(2, voting="APPROVED")])
    assert [i.id for i in library.images] == ["img_002"]


def test_a_broken_listener_does_not_break_the_library():
    class Broken(Recorder):
        def library_reset(self, images):
            raise RuntimeError("bug")

    library = ImageLibrary()
    library.add_listener(Broken())
    good = Recorder()
    library.add_listener(good)
    library.set_sort(SortOrder.NAME)
    assert good.events
    assert good.events[0][0] == "reset"


class GatedSource:
    """Each list_images call waits for its own gate, so answers can arrive out of order."""

    def __init__(self):
        import asyncio

        self.gates = []
        self.answers = []
        self._asyncio = asyncio

    async def list_images(self, status_filter="all", product_id=None):
        gate = self._asyncio.Event()
        index = len(self.gates)
        self.gates.append(gate)
        await gate.wait()
        return self.answers[index]


def test_an_older_answer_never_overwrites_a_newer_one(arun, qt_loop, qtbot):
    source = GatedSource()
    source.answers = [[img(1, "PROCESSING")], [img(1, "DONE")]]
    library = ImageLibrary(source)
    older = qt_loop.create_task(library.refresh())
    newer = qt_loop.create_task(library.refresh())
    qtbot.waitUntil(lambda: len(source.gates) == 2)
    source.gates[1].set()
    qtbot.waitUntil(newer.done)
    source.gates[0].set()
    qtbot.waitUntil(older.done)
    assert library.get("img_001").status == "DONE"
    assert library.state.load is LoadState.READY


def test_tracking_updates_newer_than_a_request_survive_its_answer(qt_loop, qtbot):
    source = GatedSource()
    source.answers = [[img(1, "PROCESSING"), img(2)]]
    library = ImageLibrary(source)
    task = qt_loop.create_task(library.refresh())
    qtbot.waitUntil(lambda: len(source.gates) == 1)
    library.upsert([img(1, "DONE")])  # tracking saw it finish while the listing was in flight
    source.gates[0].set()
    qtbot.waitUntil(task.done)
    assert library.get("img_001").status == "DONE"
    assert library.get("img_002") is not None
    assert not library.has_unfinished
