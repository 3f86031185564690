"""Rules for the server address: https, except for loopback hosts (the embedded sandbox)."""

from __future__ import annotations

import ipaddress

DEFAULT_BASE_URL = "https://app.qamera.ai"
"""Qamera's own service; self-hosted deployments have their own address."""


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(base_url: str) -> str:
    """The base URL without trailing slashes; ValueError with a readable reason when it is refused.

    Refused: no scheme or host, a scheme other than http(s), plain http to a host that is not
    loopback, a user name or password in the URL, a query or a fragment.
    """
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("The server address is empty.")
    import httpx  # here: the module is imported before the window shows, httpx need not be

    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"The server address is not a valid URL ({exc}).") from None
    if url.scheme not in ("http", "https"):
        raise ValueError("The server address must start with https://.")
    if not url.host:
        raise ValueError("The server address has no host name.")
    if url.userinfo:
        raise ValueError("The server address must not contain a user name or password.")
    if url.query or url.fragment:
        raise ValueError("The server address must not contain a query or a fragment.")
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise ValueError(
            "The server address must use https:// (plain http:// is allowed only for this "
            "computer: localhost, 127.0.0.1, ::1)."
        )
    path = url.path.rstrip("/")
    return str(url.copy_with(path=path or "/")).rstrip("/")
