"""The export engine against the real sandbox over HTTP: picks exported with their review inside,
resume after a cancel, failures recorded while the export goes on, sidecars, no credentials.

Faults the sandbox cannot produce on demand come from a transport that answers for one made-up
host (`faults.test`) and passes everything else to the network, and from a tiny TCP server that
resets every connection.
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from qamera_desktop.api import Image
from qamera_desktop.core.export.exporter import (
    ExportItem,
    ExportProgress,
    ExportResult,
    ExportScope,
    download_to,
    export_images,
    export_items,
    make_export_client,
    select_images,
)
from qamera_desktop.core.export.file_names import safe_file_name
from qamera_desktop.core.http_download import DownloadError, failure_reason
from qamera_desktop.core.review import Flag, Label, RejectReason, Review
from qamera_desktop.sandbox import SandboxHandle
from tests.unit.core.export.conftest import demo_listing, run_in_thread

FAULTS = "http://faults.test"
HTML_PAGE = b"<!doctype html><html><body>Please sign in</body></html>"


def png_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


class FaultyCdn(httpx.AsyncBaseTransport):
    """The network, except for `faults.test`: an HTML page served as 200, a timeout, a PNG."""

    def __init__(self) -> None:
        self.network = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != "faults.test":
            return await self.network.handle_async_request(request)
        path = request.url.path
        if path == "/login.jpg":
            return httpx.Response(200, headers={"Content-Type": "text/html"}, content=HTML_PAGE)
        if path == "/slow.jpg":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if path.endswith(".png"):  # labelled a JPEG: the bytes decide
            return httpx.Response(200, headers={"Content-Type": "image/jpeg"}, content=png_bytes())
        return httpx.Response(404)

    async def aclose(self) -> None:
        await self.network.aclose()


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """A TCP server that reads the request and resets the connection (RST, no answer)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    listener.close()


def image(image_id: str, url: str | None, name: str = "", status: str = "DONE") -> Image:
    return Image(image_id, name or image_id, url, status, datetime(2026, 12, 7, tzinfo=UTC))


def served(url: str) -> bytes:
    response = httpx.get(url, timeout=15)
    response.raise_for_status()
    return response.content


def scan_data(jpeg: bytes) -> bytes:
    return jpeg[jpeg.index(b"\xff\xda") :]


def xmp_of(path: Path) -> bytes:
    with PILImage.open(path) as opened:
        packet = opened.info["xmp"]
    assert isinstance(packet, bytes)
    return packet


def manifest_rows(folder: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads((folder / "manifest.json").read_bytes())["images"]
    return rows


def cdn_path(image: Image) -> str:
    assert image.thumbnail
    return httpx.URL(image.thumbnail).path


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# -- choosing ------------------------------------------------------------------------------------
def test_select_images_takes_the_scope_of_the_finished_images_once() -> None:
    images = [
        image("a", "u"),
        image("b", "u"),
        image("c", "u"),
        image("d", "u"),
        image("e", "u", status="PROCESSING"),
        image("f", "u", status="FAILED"),
        image("a", "u"),  # listed twice
    ]
    reviews = {
        "a": Review(Flag.PICK),
        "b": Review(Flag.REJECT, reasons=(RejectReason.ANATOMY,)),
        "c": Review(rating=3),
        "e": Review(Flag.PICK),  # picked, not finished: no file yet
        "f": Review(Flag.PICK),  # picked, failed: no file ever
    }

    def ids(scope: ExportScope) -> list[str]:
        return [i.id for i in select_images(images, reviews, scope)]

    assert ids(ExportScope.PICKS) == ["a"]
    assert ids(ExportScope.REJECTS) == ["b"]
    assert ids(ExportScope.REVIEWED) == ["a", "b", "c"]
    assert ids(ExportScope.ALL) == ["a", "b", "c", "d"]
    assert ids(ExportScope.PICKS) == ["a"]  # "a" once, though listed twice
    labelled = {"d": Review(label=Label.BLUE)}
    assert [i.id for i in select_images(images, labelled, ExportScope.REVIEWED)] == ["d"]


def test_product_index_maps_every_image_to_its_product(sandbox: SandboxHandle) -> None:
    sandbox.reset_stats()
    listing = demo_listing(sandbox)
    assert {image.id for image in listing.images} == set(listing.products)
    for image in listing.images:  # the demo names its images after their product
        assert image.name.endswith(listing.products[image.id].name)
    stats = sandbox.stats()
    products = len(set(listing.products.values()))
    # one listing for every image, then one per product
    assert stats.count("GET", "/api/external/image-picker") == 1 + products
    assert stats.count("GET", "/api/external/products") == 1


# -- exporting -----------------------------------------------------------------------------------
def test_picks_are_exported_with_the_review_inside(sandbox: SandboxHandle, tmp_path: Path) -> None:
    listing = demo_listing(sandbox)
    done = listing.done
    picks = {
        img.id: Review(Flag.PICK, rating=n % 6, label=Label.GREEN) for n, img in enumerate(done[:6])
    }
    reviews = {
        **picks,
        done[6].id: Review(Flag.REJECT, reasons=(RejectReason.LIGHTING,)),
        done[7].id: Review(rating=5),
    }
    selected = select_images(listing.images, reviews, ExportScope.PICKS)
    assert [i.id for i in selected] == list(picks)
    items = export_items(selected, reviews, listing.products)
    folder = tmp_path / "new" / "out"  # made by the export
    sandbox.reset_stats()

    result = run_in_thread(export_images(items, folder))

    assert not result.failures
    assert not result.cancelled
    assert result.ok
    assert result.skipped == ()
    expected = [folder / safe_file_name(i.image.name, i.image.id, ".jpg") for i in items]
    assert list(result.written) == expected
    stats = sandbox.stats()
    assert all(stats.count("GET", cdn_path(i.image)) == 1 for i in items)  # each fetched once
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [p.name for p in expected] + ["manifest.csv", "manifest.json"]
    )  # no .part, no sidecar: the XMP is inside the JPEGs
    for item, path in zip(items, expected, strict=True):
        assert item.image.thumbnail
        original = served(item.image.thumbnail)
        exported = path.read_bytes()
        assert scan_data(exported) == scan_data(original)  # the image itself, byte for byte
        packet = xmp_of(path)
        assert f"<xmp:Rating>{item.review.rating}</xmp:Rating>".encode() in packet
        assert b"<xmp:Label>Green</xmp:Label>" in packet
        assert f"<dc:identifier>{item.image.id}</dc:identifier>".encode() in packet
    rows = manifest_rows(folder)
    assert [row["id"] for row in rows] == list(picks)
    for row, item in zip(rows, items, strict=True):
        assert row["outcome"] == "written"
        assert row["file"] == safe_file_name(item.image.name, item.image.id, ".jpg")
        assert row["productName"] == listing.products[item.image.id].name
        assert row["flag"] == "pick"
        assert row["sourceUrl"] == item.image.thumbnail


def test_a_cancelled_export_resumes_where_it_stopped(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    listing = demo_listing(sandbox)
    items = export_items(select_images(listing.images, {}, ExportScope.ALL), {})
    assert len(items) >= 30
    folder = tmp_path / "out"
    sandbox.reconfigure(cdn_latency_ms=40)  # slow enough that the cancel lands part-way
    cancel = threading.Event()

    def stop_after_a_few(progress: ExportProgress) -> None:
        if progress.done >= 5:
            cancel.set()

    first = run_in_thread(
        export_images(items, folder, progress=stop_after_a_few, cancel=cancel, concurrency=4)
    )

    assert first.cancelled
    assert not first.ok
    assert 5 <= len(first.written) < len(items)
    assert not first.failures
    assert leftovers(folder) == []
    on_disk = {p for p in folder.iterdir() if p.suffix == ".jpg"}
    assert on_disk == set(first.written)  # only complete files, every one of them reported
    document = json.loads((folder / "manifest.json").read_bytes())
    assert document["cancelled"] is True
    assert document["counts"]["written"] == len(first.written)
    assert document["counts"]["not reached"] == len(items) - len(first.written)
    assert len(document["images"]) == len(items)  # a row for every item, reached or not
    kept = {path: path.stat().st_ino for path in first.written}
    sandbox.reconfigure(cdn_latency_ms=0)
    sandbox.reset_stats()

    second = run_in_thread(export_images(items, folder))

    assert second.ok
    assert set(second.skipped) == set(first.written)
    assert len(second.written) == len(items) - len(first.written)
    assert {path: path.stat().st_ino for path in kept} == kept  # left as they were
    stats = sandbox.stats()
    for item in items:
        path = folder / safe_file_name(item.image.name, item.image.id, ".jpg")
        assert stats.count("GET", cdn_path(item.image)) == (0 if path in kept else 1)
    outcomes = {row["outcome"] for row in manifest_rows(folder)}
    assert outcomes == {"written", "skipped"}
    assert len(manifest_rows(folder)) == len(items)


def test_cancelling_the_task_keeps_what_is_complete_and_writes_the_manifest(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    listing = demo_listing(sandbox)
    items = export_items(select_images(listing.images, {}, ExportScope.ALL), {})
    folder = tmp_path / "out"
    sandbox.reconfigure(cdn_latency_ms=100)

    async def cancel_part_way() -> bool:
        two_done = asyncio.Event()

        def progress(p: ExportProgress) -> None:
            if p.done >= 2:
                two_done.set()

        task = asyncio.create_task(export_images(items, folder, progress=progress, concurrency=2))
        await two_done.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert run_in_thread(cancel_part_way())
    assert leftovers(folder) == []
    document = json.loads((folder / "manifest.json").read_bytes())
    assert document["cancelled"] is True
    written = {row["file"] for row in document["images"] if row["outcome"] == "written"}
    assert {p.name for p in folder.iterdir() if p.suffix == ".jpg"} == written
    assert 2 <= len(written) < len(items)


def test_failures_are_recorded_and_the_export_goes_on(
    sandbox: SandboxHandle, tmp_path: Path, resetting_server: str
) -> None:
    listing = demo_listing(sandbox)
    failed_image = next(i for i in listing.images if i.is_failed)  # the demo has some
    good = listing.done[:2]
    broken = [
        image("img_gone", f"{sandbox.base_url}/cdn/images/img_doesnotexist.jpg", "Gone"),
        image("img_login", f"{FAULTS}/login.jpg", "Login page"),
        image("img_reset", f"{resetting_server}/x.jpg", "Reset"),
        image("img_slow", f"{FAULTS}/slow.jpg", "Slow"),
        image("img_busy", f"{FAULTS}/busy.jpg", "Busy", status="PROCESSING"),
        failed_image,
        image("img_nourl", None, "No URL"),
        image("img_ftp", "ftp://example.com/x.jpg", "FTP"),
    ]
    items = export_items([*broken, *good], {})  # the good ones come after every failure
    folder = tmp_path / "out"
    transport = FaultyCdn()

    async def export() -> ExportResult:
        async with make_export_client(1, transport=transport) as client:
            return await export_images(items, folder, http=client, concurrency=1)

    result = run_in_thread(export())

    reasons = {f.item.image.id: f.reason for f in result.failures}
    assert reasons["img_gone"] == "HTTP 404"
    assert reasons["img_login"] == "not an image (served as text/html)"
    assert reasons["img_reset"].startswith(("network error", "the connection broke off"))
    assert reasons["img_slow"] == "timed out"
    assert reasons["img_busy"].startswith("not finished yet (status PROCESSING)")
    assert reasons[failed_image.id].startswith("its generation failed")
    assert reasons["img_nourl"] == "the listing gives no URL for it"
    assert reasons["img_ftp"] == "unsupported URL scheme (ftp)"
    assert len(reasons) == len(broken)
    assert [p.name for p in result.written] == [safe_file_name(i.name, i.id, ".jpg") for i in good]
    assert not any(r.url.host == "faults.test" and "busy" in r.url.path for r in transport.requests)
    rows = {row["id"]: row for row in manifest_rows(folder)}
    for image_id, reason in reasons.items():
        assert rows[image_id]["outcome"] == "failed"
        assert rows[image_id]["file"] == ""
        assert rows[image_id]["failureReason"] == reason
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(safe_file_name(i.name, i.id, ".jpg") for i in good), "manifest.csv", "manifest.json"]
    )


def test_other_formats_are_written_as_served_with_a_sidecar(tmp_path: Path) -> None:
    review = Review(Flag.PICK, rating=5, label=Label.PURPLE)
    items = [ExportItem(image("img_png", f"{FAULTS}/photo.png", "Green square"), review)]

    async def export() -> ExportResult:
        async with make_export_client(transport=FaultyCdn()) as client:
            return await export_images(items, tmp_path, http=client)

    result = run_in_thread(export())

    png = tmp_path / "Green square__img_png.png"  # .png: the bytes are a PNG, whatever the label
    assert result.written == (png,)
    assert png.read_bytes() == png_bytes()  # as served, not a byte changed
    sidecar = tmp_path / "Green square__img_png.xmp"
    packet = sidecar.read_bytes()
    assert b"<xmp:Rating>5</xmp:Rating>" in packet
    assert b"<xmp:Label>Purple</xmp:Label>" in packet
    assert manifest_rows(tmp_path)[0]["xmpSidecar"] == sidecar.name
    again = run_in_thread(export())  # exporting again finds the PNG and its sidecar
    assert again.skipped == (png,)
    assert manifest_rows(tmp_path)[0]["xmpSidecar"] == sidecar.name


def test_no_credentials_ever_reach_the_cdn(sandbox: SandboxHandle, tmp_path: Path) -> None:
    listing = demo_listing(sandbox)
    transport = FaultyCdn()

    async def export() -> None:
        async with make_export_client(transport=transport) as client:
            # even a client someone loaded with credentials sends none of them
            client.headers["X-Api-Key"] = sandbox.demo_key
            client.headers["Authorization"] = "Bearer token"
            client.cookies.set("session", "s3cret")
            await export_images(export_items(listing.done[:3], {}), tmp_path, http=client)

    run_in_thread(export())

    assert len(transport.requests) == 3
    for request in transport.requests:
        for header in ("x-api-key", "authorization", "cookie", "proxy-authorization"):
            assert header not in request.headers


def test_progress_comes_on_the_export_loop_and_ends_complete(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    listing = demo_listing(sandbox)
    items = export_items(listing.done, {})
    seen: list[tuple[ExportProgress, str]] = []

    async def export() -> str:
        await export_images(
            items, tmp_path, progress=lambda p: seen.append((p, threading.current_thread().name))
        )
        return threading.current_thread().name

    loop_thread = run_in_thread(export())

    assert {thread for _, thread in seen} == {loop_thread}
    reports = [p for p, _ in seen]
    assert reports[-1] == ExportProgress(
        done=len(items),
        total=len(items),
        failed=0,
        skipped=0,
        bytes_written=sum(p.stat().st_size for p in tmp_path.glob("*.jpg")),
        last=reports[-1].last,
    )
    assert [p.done for p in reports] == sorted(p.done for p in reports)
    assert len(reports) <= len(items) + 1


def test_a_part_file_left_by_a_killed_export_is_replaced(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    listing = demo_listing(sandbox)
    target = listing.done[0]
    name = safe_file_name(target.name, target.id, ".jpg")
    (tmp_path / f"{name}.part").write_bytes(b"\xff\xd8half an image")
    (tmp_path / "manifest.json.part").write_bytes(b"{")
    (tmp_path / "someone else's.part").write_bytes(b"not ours")

    result = run_in_thread(export_images(export_items([target], {}), tmp_path))

    assert result.written == (tmp_path / name,)
    assert leftovers(tmp_path) == ["someone else's.part"]
    assert target.thumbnail
    assert scan_data((tmp_path / name).read_bytes()) == scan_data(served(target.thumbnail))


def test_a_file_that_cannot_be_written_is_a_failure_and_the_export_goes_on(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    listing = demo_listing(sandbox)
    blocked, fine = listing.done[:2]
    name = safe_file_name(blocked.name, blocked.id, ".jpg")
    (tmp_path / f"{name}.part").mkdir()  # a folder where its temporary file must go

    result = run_in_thread(export_images(export_items([blocked, fine], {}), tmp_path))

    assert [f.reason for f in result.failures] == [f"cannot write {name} (Is a directory)"]
    assert result.written == (tmp_path / safe_file_name(fine.name, fine.id, ".jpg"),)
    assert manifest_rows(tmp_path)[0]["failureReason"] == f"cannot write {name} (Is a directory)"


# -- one file ------------------------------------------------------------------------------------
def test_download_to_writes_the_file_as_served(sandbox: SandboxHandle, tmp_path: Path) -> None:
    listing = demo_listing(sandbox)
    url = listing.done[0].thumbnail
    assert url
    destination = tmp_path / "drag.jpg"

    async def download() -> Path:
        async with make_export_client() as client:
            return await download_to(client, url, destination)

    assert run_in_thread(download()) == destination
    assert destination.read_bytes() == served(url)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("{sandbox}/cdn/images/img_doesnotexist.jpg", "HTTP 404"),
        (f"{FAULTS}/login.jpg", "not an image (served as text/html)"),
        (f"{FAULTS}/slow.jpg", "timed out"),
        ("file:///etc/passwd", "unsupported URL scheme (file)"),
    ],
)
def test_download_to_fails_clearly_and_leaves_nothing(
    sandbox: SandboxHandle, tmp_path: Path, url: str, reason: str
) -> None:
    destination = tmp_path / "drag.jpg"
    destination.write_bytes(b"what was there before")

    async def download() -> Path:
        async with make_export_client(transport=FaultyCdn()) as client:
            return await download_to(client, url.format(sandbox=sandbox.base_url), destination)

    with pytest.raises(DownloadError) as failed:
        run_in_thread(download())
    assert failed.value.reason == reason
    assert destination.read_bytes() == b"what was there before"
    assert leftovers(tmp_path) == []


def test_download_to_a_reset_connection(resetting_server: str, tmp_path: Path) -> None:
    async def download() -> Path:
        async with make_export_client() as client:
            return await download_to(client, f"{resetting_server}/x.jpg", tmp_path / "x.jpg")

    with pytest.raises(DownloadError, match=r"network error|broke off"):
        run_in_thread(download())
    assert list(tmp_path.iterdir()) == []


def test_a_reset_reads_as_its_os_reason() -> None:
    error = httpx.ReadError("reset")
    error.__cause__ = ConnectionResetError(errno.ECONNRESET, "reset")
    assert failure_reason(error) == "network error (Connection reset by peer)"
