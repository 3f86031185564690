"""`seed_images`: many finished images, listed in order, thumbnails rendered lazily then cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from qamera_desktop.sandbox import SandboxHandle
from tests.sandbox_fixtures import api_client, list_images


def test_seeded_images_are_listed_and_render_lazily(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    sandbox = sandbox_factory(data_dir=data, seed_images=3000)
    with api_client(sandbox.base_url, sandbox.demo_key) as client:
        images = list_images(client)
        assert len(images) == 3000 + 40
        order = [(im["createdAt"], im["id"]) for im in images]
        assert order == sorted(order, reverse=True)
        assert len({im["id"] for im in images}) == len(images)
        oldest = images[-1]  # a seeded one: older than the demo history
        assert oldest["status"] == "DONE"
        approved = list_images(client, statusFilter="approved")
        assert 3000 // 9 < len(approved) < 3000 // 9 + 40
        vases = list_images(client, productId="prod_vase04")
        assert len(vases) == 500 + sum("Vase" in im["name"] for im in images[:40])
    cached = list(data.glob(f"cdn/**/{oldest['id']}.jpg"))
    assert cached == []
    first = httpx.get(oldest["thumbnail"])
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    (cached_file,) = data.glob(f"cdn/**/{oldest['id']}.jpg")
    assert cached_file.read_bytes() == first.content
    assert httpx.get(oldest["thumbnail"]).content == first.content
    sandbox.stop()

    again = sandbox_factory(data_dir=data, seed_images=3000)  # no duplicates on a restart
    with api_client(again.base_url, again.demo_key) as client:
        assert len(list_images(client)) == 3000 + 40
    again.stop()
    more = sandbox_factory(data_dir=data, seed_images=3500)  # tops up to the new number
    with api_client(more.base_url, more.demo_key) as client:
        images = list_images(client)
    assert len(images) == 3500 + 40
    assert oldest["id"] in {im["id"] for im in images}
