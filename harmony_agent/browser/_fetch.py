"""Fetching pages with httpx: address checks on every hop, caps, deadlines, charsets.

:func:`fetch` follows redirects itself (at most ``max_redirects``), checking each hop's
scheme and address (:mod:`._safety`), streams the body up to ``max_bytes`` (a larger
page is cut there and marked truncated) and gives up after ``deadline`` seconds in all,
so a slow, looping or never-ending page cannot stall a run.
"""

from __future__ import annotations

import asyncio
import codecs
import re
from dataclasses import dataclass

import httpx

from harmony_agent.browser._safety import AddressPolicy, Blocked

__all__ = ["FetchError", "Fetched", "Limits", "classify", "decode", "fetch", "new_client"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""")
#: What browsers (WHATWG) decode instead of the labels pages declare.
_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
    "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "tis-620": "cp874",
}  # fmt: skip
USER_AGENT = "Mozilla/5.0 (compatible; harmony-agent-browser/0.1)"


class FetchError(Exception):
    """A fetch that failed; the message is written for the model."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How far one fetch may go.

    Attributes:
        max_bytes: the most bytes read from a body; the rest is cut off.
        max_redirects: the most redirects followed.
        connect_timeout: seconds to connect.
        read_timeout: seconds to wait for each piece of the body.
        deadline: seconds for the whole fetch, redirects and body included.
    """

    max_bytes: int = 5_000_000
    max_redirects: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 20.0


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched body and what is known about it."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool = False


def new_client(limits: Limits) -> httpx.AsyncClient:
    """An httpx client for the browser: no redirects of its own, no proxies from the env."""
    timeout = httpx.Timeout(
        limits.read_timeout, connect=limits.connect_timeout, pool=limits.connect_timeout
    )
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # a proxy would connect to hosts we never checked
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )


async def fetch(
    client: httpx.AsyncClient, url: str, *, policy: AddressPolicy, limits: Limits
) -> Fetched:
    """GET ``url`` within ``limits`` and ``policy``.

    Raises:
        FetchError: refused, unreachable, too many redirects, an HTTP error status, or
            past the deadline; the message says which.
    """
    try:
        return await asyncio.wait_for(_fetch(client, url, policy, limits), limits.deadline)
    except asyncio.TimeoutError:
        raise FetchError(f"no complete answer within {limits.deadline:g} seconds") from None


async def _fetch(
    client: httpx.AsyncClient, url: str, policy: AddressPolicy, limits: Limits
) -> Fetched:
    for _hop in range(limits.max_redirects + 1):
        target = _checked_url(url)
        host = target.host
        try:
            address = await policy.resolve(host, target.port or _default_port(target.scheme))
        except Blocked as exc:
            raise FetchError(str(exc)) from None
        headers: dict[str, str] = {}
        extensions: dict[str, str] = {}
        request_url = target
        if address is not None:  # connect to the address we checked (no DNS rebinding)
            request_url = target.copy_with(host=address)
            headers["Host"] = target.netloc.decode("ascii")
            if target.scheme == "https":
                extensions["sni_hostname"] = host
        try:
            request = client.build_request(
                "GET", request_url, headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchError(f"the host {host!r} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"could not connect to {host!r}: {_reason(exc)}") from None
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                url = str(target.join(location))
                continue
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
            body, truncated = await _read(response, limits.max_bytes)
        except httpx.TimeoutException:
            raise FetchError(f"the host {host!r} stopped sending") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"reading from {host!r} failed: {_reason(exc)}") from None
        finally:
            await response.aclose()
        content_type = response.headers.get("content-type", "")
        return Fetched(
            url=str(target),
            status=response.status_code,
            content_type=content_type.partition(";")[0].strip().lower(),
            charset=_header_charset(content_type),
            body=body,
            truncated=truncated,
        )
    raise FetchError(f"more than {limits.max_redirects} redirects")


def _checked_url(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from None
    if target.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be opened, not {target.scheme or url!r}")
    if not target.host:
        raise FetchError(f"the URL {url!r} has no host")
    return target


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def _read(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def _header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", content_type, re.I)
    return match.group(1) if match else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(body: bytes, charset: str | None = None, *, html: bool = False) -> str:
    """Text from bytes: the declared charset, a BOM, a meta tag, UTF-8, or detection."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):  # fmt: skip
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace")
    codec = _codec(charset)
    if codec is None and html:
        head = body[:4096]
        match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
        codec = _codec(match.group(1).decode("ascii", "replace")) if match else None
    if codec is not None:
        return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(body[:200_000]).best()
    return body.decode(best.encoding if best else "cp1252", errors="replace")


def classify(content_type: str, body: bytes) -> str:
    """``"html"``, ``"text"``, ``"json"``, ``"pdf"`` or ``"binary"`` for a fetched body."""
    head = body[:1024].lstrip()
    if body.startswith(b"%PDF-") or content_type == "application/pdf":
        return "pdf" if body.startswith(b"%PDF-") else "binary"
    if b"\x00" in body[:4096] and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    if content_type == "application/json" or content_type.endswith("+json"):
        return "json"
    if content_type.startswith("text/") or content_type.endswith(("+xml", "/xml")):
        return "text"
    if not content_type or content_type in ("application/octet-stream", "binary/octet-stream"):
        lowered = head[:100].lower()
        if lowered.startswith((b"<!doctype html", b"<html")):
            return "html"
        if head.startswith((b"{", b"[")):
            return "json"
        if not content_type:
            return "text"
    return "binary"
