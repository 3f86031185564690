"""Every endpoint of the sandbox over real HTTP: bodies, filters, auth, errors, thumbnails."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import httpx
import pytest
from PIL import Image

from qamera_desktop.sandbox import EXAMPLE_API_KEY, READONLY_API_KEY, SandboxHandle
from tests.sandbox_fixtures import API, api_client, list_images

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ITEM_KEYS = {"id", "name", "thumbnail", "status", "createdAt"}


def _check_items(items: list[dict[str, object]], base_url: str, kind: str) -> None:
    for item in items:
        assert item.keys() >= ITEM_KEYS
        assert item["thumbnail"] == f"{base_url}/cdn/{kind}/{item['id']}.jpg"
        assert ISO_MS.match(str(item["createdAt"]))


def test_image_picker_lists_newest_first_with_documented_items(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    response = client.get(f"{API}/image-picker")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-correlation-id"]
    body = response.json()
    images = body["images"]
    assert body["count"] == len(images) == 40
    _check_items(images, sandbox.base_url, "images")
    order = [(im["createdAt"], im["id"]) for im in images]
    assert order == sorted(order, reverse=True)
    assert {im["status"] for im in images} == {"DONE", "FAILED"}
    assert sum(im["status"] == "FAILED" for im in images) == 2
    assert {im["voting"] for im in images} == {"APPROVED", "REJECTED", None}
    assert len({im["id"] for im in images}) == 40


def test_image_picker_filters_by_approval_and_product(client: httpx.Client) -> None:
    everything = list_images(client)
    approved = list_images(client, statusFilter="approved")
    assert approved
    assert all(im["voting"] == "APPROVED" for im in approved)
    assert [im["id"] for im in approved] == [
        im["id"] for im in everything if im["voting"] == "APPROVED"
    ]
    assert list_images(client, statusFilter="all") == everything
    tote = list_images(client, productId="prod_tote02")
    assert tote
    assert all("Leather Tote Bag" in im["name"] for im in tote)
    both = list_images(client, productId="prod_tote02", statusFilter="approved")
    assert {im["id"] for im in both} <= {im["id"] for im in tote}
    assert list_images(client, productId="prod_nope") == []
    assert list_images(client, productId="prod_abc123") == []  # another account's product


@pytest.mark.parametrize("path", ["image-picker", "models", "sceneries"])
def test_status_filter_must_be_all_or_approved(client: httpx.Client, path: str) -> None:
    response = client.get(f"{API}/{path}", params={"statusFilter": "rejected"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed: 'statusFilter' must be 'all' or 'approved'."
    }


def test_products(sandbox: SandboxHandle, client: httpx.Client) -> None:
    body = client.get(f"{API}/products").json()
    names = {p["name"] for p in body["products"]}
    assert body["count"] == 6
    assert {"White T-Shirt", "Leather Tote Bag", "Running Shoes", "Ceramic Vase"} <= names
    assert {p["status"] for p in body["products"]} == {"UPLOADED"}
    _check_items(body["products"], sandbox.base_url, "products")


@pytest.mark.parametrize(("path", "total"), [("models", 4), ("sceneries", 5)])
def test_models_and_sceneries_with_status_filter(
    sandbox: SandboxHandle, client: httpx.Client, path: str, total: int
) -> None:
    everything = client.get(f"{API}/{path}").json()
    assert everything["count"] == len(everything[path]) == total
    assert {m["status"] for m in everything[path]} == {"DONE"}
    _check_items(everything[path], sandbox.base_url, path)
    approved = client.get(f"{API}/{path}", params={"statusFilter": "approved"}).json()
    assert 0 < approved["count"] < total
    assert all(m["voting"] == "APPROVED" for m in approved[path])
    assert any(m["voting"] is None for m in everything[path])


def test_presets_and_max_records(client: httpx.Client) -> None:
    body = client.get(f"{API}/presets").json()
    assert body["count"] == 4
    for preset in body["presets"]:
        assert set(preset) == {
            "id",
            "name",
            "guidelines",
            "quantityGuidelines",
            "qualityGuidelines",
            "createdAt",
        }
        assert ISO_MS.match(preset["createdAt"])
    two = client.get(f"{API}/presets", params={"maxRecords": 2}).json()
    assert [p["id"] for p in two["presets"]] == [p["id"] for p in body["presets"][:2]]
    assert two["count"] == 2
    for bad in ("0", "101", "ten", "-1", "2.5"):
        response = client.get(f"{API}/presets", params={"maxRecords": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"].startswith("Validation failed: 'maxRecords'")


def test_seed_document_get_example(sandbox: SandboxHandle, example_client: httpx.Client) -> None:
    response = example_client.get(
        f"{sandbox.base_url}/api/external/image-picker?statusFilter=approved&productId=prod_abc123"
    )
    assert response.status_code == 200
    images = response.json()["images"]
    assert "img_abc123" in [im["id"] for im in images]
    example = next(im for im in images if im["id"] == "img_abc123")
    assert example["name"] == "Fashion Shoot - White T-Shirt"
    assert (example["status"], example["voting"]) == ("DONE", "APPROVED")
    assert example["createdAt"] == "2026-03-20T16:00:00.000Z"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_document_curl_examples_run_unchanged(sandbox: SandboxHandle) -> None:
    """The two curl commands of the seed document, as documented, with only the host replaced."""
    host = sandbox.base_url
    # the document prints the GET on one line with its line continuation ("\\ -H"); the line break
    # that followed the backslash in the original command is restored here
    query = "statusFilter=approved&productId=prod_abc123"
    get = (
        f'curl -X GET "{host}/api/external/image-picker?{query}" '
        '\\\n -H "X-Api-Key: mk_live_abc123.secret456"'
    )
    post = f"""curl -X POST "{host}/api/external/image-picker/register-ideas" \\
-H "X-Api-Key: mk_live_abc123.secret456" \\
-H "Content-Type: application/json" \\
-d '{{
"config": {{
"product": {{ "id": "prod_abc123" }},
"model": {{ "id": "model_xyz" }},
"scenery": {{ "id": "scenery_001" }},
"industry": "fashion",
"suggestions": "Outdoor urban setting, natural lighting"
}},
"count": 10
}}'"""
    # The seed document's GET example has a stray "\ " before -H (a lost line break); the shell
    # turns it into an argument " " that curl reports as a bad URL after the real request.
    got = subprocess.run(["sh", "-c", get + " -s"], capture_output=True, text=True, timeout=30)
    assert got.returncode == 0, got.stderr
    assert '"id":"img_abc123"' in got.stdout
    posted = subprocess.run(["sh", "-c", post + " -s"], capture_output=True, text=True, timeout=30)
    assert posted.returncode == 0, posted.stderr
    assert '"creditsReserved":30' in posted.stdout
    assert posted.stdout.count("img_") == 10


def test_auth_missing_invalid_bearer_and_precedence(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.base_url}{API}/products"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json() == {"error": "Missing API key."}
    assert missing.headers["x-correlation-id"]
    for bad in ("mk_live_abc123.wrong", "nonsense", "mk_live_demo.sandboxx"):
        response = httpx.get(url, headers={"X-Api-Key": bad})
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid API key."}
    bearer = httpx.get(url, headers={"Authorization": f"Bearer {sandbox.demo_key}"})
    assert bearer.status_code == 200
    # X-Api-Key wins over Authorization when both are sent
    both_bad_key = httpx.get(
        url, headers={"X-Api-Key": "mk_live_x.y", "Authorization": f"Bearer {sandbox.demo_key}"}
    )
    assert both_bad_key.status_code == 401
    both_good_key = httpx.get(
        url, headers={"X-Api-Key": EXAMPLE_API_KEY, "Authorization": "Bearer mk_live_x.y"}
    )
    assert both_good_key.status_code == 200
    assert "prod_abc123" in {p["id"] for p in both_good_key.json()["products"]}
    basic = httpx.get(url, headers={"Authorization": f"Basic {sandbox.demo_key}"})
    assert basic.status_code == 401


def test_read_only_key_reads_but_cannot_register(sandbox: SandboxHandle) -> None:
    with api_client(sandbox.base_url, READONLY_API_KEY) as readonly:
        assert readonly.get(f"{API}/products").status_code == 200
        response = readonly.post(
            f"{API}/image-picker/register-ideas",
            json={"config": {"product": {"id": "prod_wtee01"}}, "count": 1},
        )
    assert response.status_code == 403
    assert response.json() == {"error": "Missing required scope: 'content.register'."}
    assert sandbox.ledger().account("acct_demo").reserved == 0


def test_accounts_are_separate(client: httpx.Client, example_client: httpx.Client) -> None:
    demo_products = {p["id"] for p in client.get(f"{API}/products").json()["products"]}
    example_products = {p["id"] for p in example_client.get(f"{API}/products").json()["products"]}
    assert demo_products.isdisjoint(example_products)
    assert {"prod_abc123"} <= example_products
    models = {m["id"] for m in example_client.get(f"{API}/models").json()["models"]}
    sceneries = {s["id"] for s in example_client.get(f"{API}/sceneries").json()["sceneries"]}
    assert "model_xyz" in models
    assert "scenery_001" in sceneries


def test_unknown_path_and_wrong_method(sandbox: SandboxHandle, client: httpx.Client) -> None:
    for path in ("/api/external/nothing", "/", "/api/external/image-picker/register-ideas/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "Not found."}
        assert response.headers["x-correlation-id"]
    wrong = client.delete(f"{API}/products")
    assert wrong.status_code == 405
    assert wrong.json() == {"error": "Method not allowed."}
    assert "GET" in wrong.headers["allow"]
    get_on_post = client.get(f"{API}/image-picker/register-ideas")
    assert get_on_post.status_code == 405
    assert get_on_post.json() == {"error": "Method not allowed."}


def test_correlation_ids_differ_per_request(client: httpx.Client) -> None:
    ids = {client.get(f"{API}/products").headers["x-correlation-id"] for _ in range(5)}
    assert len(ids) == 5


def _jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def test_thumbnails_are_cacheable_jpegs(sandbox: SandboxHandle, client: httpx.Client) -> None:
    done = next(im for im in list_images(client) if im["status"] == "DONE")
    first = httpx.get(done["thumbnail"])  # no key: it is a CDN
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    assert "max-age" in first.headers["cache-control"]
    etag = first.headers["etag"]
    assert _jpeg(first.content).size == (410, 512)
    again = httpx.get(done["thumbnail"])
    assert again.content == first.content
    not_modified = httpx.get(done["thumbnail"], headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    for kind in ("products", "models", "sceneries"):
        item = client.get(f"{API}/{kind}").json()[kind][0]
        response = httpx.get(item["thumbnail"])
        assert response.status_code == 200
        assert _jpeg(response.content).size == (410, 512)
    failed = next(im for im in list_images(client) if im["status"] == "FAILED")
    placeholder = httpx.get(failed["thumbnail"])
    assert placeholder.status_code == 200
    assert _jpeg(placeholder.content).size == (410, 512)
    assert placeholder.content != first.content


@pytest.mark.parametrize(
    "path",
    [
        "/cdn/images/img_doesnotexist.jpg",
        "/cdn/images/img_abc123.png",
        "/cdn/videos/img_abc123.jpg",
        "/cdn/images/..%2F..%2Fsandbox.sqlite3.jpg",
        "/cdn/products/prod_nope.jpg",
    ],
)
def test_unknown_thumbnails_are_404(sandbox: SandboxHandle, path: str) -> None:
    response = httpx.get(sandbox.base_url + path)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_thumbnail_urls_follow_the_host_the_client_used(sandbox: SandboxHandle) -> None:
    port = sandbox.base_url.rsplit(":", 1)[1]
    with api_client(f"http://localhost:{port}", sandbox.demo_key) as by_name:
        image = list_images(by_name)[0]
    assert image["thumbnail"].startswith(f"http://localhost:{port}/cdn/images/")


def test_a_bad_host_header_falls_back_to_the_server_address(sandbox: SandboxHandle) -> None:
    response = httpx.get(
        f"{sandbox.base_url}{API}/products",
        headers={"X-Api-Key": sandbox.demo_key, "Host": 'evil"host'},
    )
    assert response.json()["products"][0]["thumbnail"].startswith(f"{sandbox.base_url}/cdn/")


def test_an_unexpected_error_is_a_500_with_the_error_body(
    sandbox: SandboxHandle, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(account_id: str) -> list[tuple[str, str, str, str]]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sandbox._runtime.store, "products", broken)
    response = client.get(f"{API}/products")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error."}
    assert response.headers["x-correlation-id"]
    assert client.get(f"{API}/models").status_code == 200  # the server carries on


def test_ledger_debug_endpoint_shows_the_keys_account(
    sandbox: SandboxHandle, client: httpx.Client
) -> None:
    client.post(
        f"{API}/image-picker/register-ideas",
        json={"config": {"product": {"id": "prod_mug06"}}, "count": 2},
    )
    body = client.get("/__sandbox/ledger").json()
    assert body["balanced"] is True
    assert [a["accountId"] for a in body["accounts"]] == ["acct_demo"]
    assert body["accounts"][0]["reserved"] == 6
    assert [r["reserved"] for r in body["reservations"]] == [6]
    assert httpx.get(f"{sandbox.base_url}/__sandbox/ledger").status_code == 401


def test_final_thumbnails_are_served_from_memory_after_the_first_request(
    sandbox: SandboxHandle, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = next(im for im in list_images(client) if im["status"] == "DONE")
    first = httpx.get(done["thumbnail"])
    thumbnails = sandbox._runtime.thumbnails
    path = thumbnails.path_for("images", done["id"])
    path.unlink()  # a repeat must not need the file...
    queries: list[str] = []
    status = sandbox._runtime.store.image_status
    monkeypatch.setattr(
        sandbox._runtime.store, "image_status", lambda i: queries.append(i) or status(i)
    )
    again = httpx.get(done["thumbnail"])
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert queries == []  # ...nor the database
    assert not path.exists()  # nor a new render


def test_the_thumbnail_memory_is_bounded_and_forgets_the_least_recent(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qamera_desktop.sandbox import cdn

    monkeypatch.setattr(cdn, "MEMORY_BYTES", 100)
    memory = cdn.ThumbnailCache(sandbox.data_dir, sandbox._runtime.store, executor=None)  # type: ignore[arg-type]
    for n in range(12):  # 10 bytes each: 120 in all
        memory._remember(("images", f"img_{n}"), cdn.Thumbnail(b"x" * 10, f'"{n}"', "final"))
    memory._remember(("images", "img_big"), cdn.Thumbnail(b"x" * 13, '"big"', "final"))
    assert [key[1] for key in memory._memory] == [f"img_{n}" for n in range(2, 12)]
    assert memory._memory_bytes == 100  # the big one (over an eighth of the budget) is not kept
