"""Fetching: address safety on every hop, redirects, size cap, deadlines, charsets."""

from __future__ import annotations

import ipaddress
import time

import pytest

from harmony_agent.browser import BrowserTool, Limits, LocalIndex
from harmony_agent.browser._fetch import FetchError, classify, decode, fetch, new_client
from harmony_agent.browser._safety import AddressPolicy, is_public
from harmony_agent.testing.fake_web import WebServer
from tests.browser.conftest import answer, call


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "fd00:ec2::254", "fc00::1",
     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "::"],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_allowed_hosts_accept_names_addresses_and_networks() -> None:
    policy = AddressPolicy.allowing(["Intranet.Example.", "127.0.0.1", "10.0.0.0/8", "[::1]"])
    assert policy.allows("intranet.example")
    assert policy.allows("127.0.0.1") and policy.allows("10.9.8.7") and policy.allows("::1")
    assert not policy.allows("127.0.0.2") and not policy.allows("other.example")


async def test_loopback_is_refused_unless_allowed(web: WebServer) -> None:
    refusing = BrowserTool(LocalIndex())
    async with refusing.session() as s:
        out = await answer(s, "open", f'{{"id": "{web.url("/guide.html")}"}}')
        via_name = await answer(s, "open", f'{{"id": "http://localhost:{web.url("")[17:]}/"}}')
    assert "refused" in out[0].text and "127.0.0.1" in out[0].text
    assert "refused" in via_name[0].text  # the name resolves to loopback: refused too
    assert "/guide.html" not in web.requests[-2:]


async def test_allowed_name_connects_to_the_checked_address(web: WebServer) -> None:
    port = web.base_url.rsplit(":", 1)[1]
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.0/8"])
    async with tool.session() as s:
        text = await call(s, "open", id=f"http://localhost:{port}/guide.html")
    assert text.startswith(f"[0] Field guide (http://localhost:{port}/guide.html)")


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
async def test_redirects_are_checked_on_every_hop(
    web: WebServer, tool: BrowserTool, path: str
) -> None:
    async with tool.session() as s:
        out = await answer(s, "open", f'{{"id": "{web.url(path)}"}}')
    assert "refused" in out[0].text and ("10.0.0.1" in out[0].text or "169.254" in out[0].text)


async def test_redirect_chain_and_loop(web: WebServer) -> None:
    policy = AddressPolicy.allowing(["127.0.0.1"])
    async with new_client(Limits()) as client:
        done = await fetch(client, web.url("/redirect/5"), policy=policy, limits=Limits())
        assert done.url.endswith("/redirect/0") and b"Arrived" in done.body
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await fetch(client, web.url("/redirect/6"), policy=policy, limits=Limits())
        with pytest.raises(FetchError, match="redirects"):
            await fetch(client, web.url("/loop"), policy=policy, limits=Limits())


async def test_huge_page_is_cut_at_the_size_cap(web: WebServer) -> None:
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"], limits=Limits(max_bytes=300_000))
    async with tool.session() as s:
        text = await call(s, "open", id=web.url("/huge"))
    assert "(the page was cut off after 300,000 bytes)" in text
    assert "All work and no play" in text


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
async def test_slow_and_endless_pages_end_at_the_deadline(web: WebServer, path: str) -> None:
    limits = Limits(read_timeout=5.0, deadline=1.0)
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"], limits=limits)
    start = time.monotonic()
    async with tool.session() as s:
        out = await answer(s, "open", f'{{"id": "{web.url(path)}"}}')
    assert time.monotonic() - start < 5
    assert "within 1 seconds" in out[0].text


def test_tool_timeout_bounds_the_fetch_deadline() -> None:
    tool = BrowserTool(LocalIndex(), timeout=5.0)
    assert tool.limits.deadline == 4.0 and tool.timeout == 5.0


def test_decode_charsets() -> None:
    text = "Grüße, café"
    assert decode(text.encode("cp1252"), "iso-8859-1") == text
    assert decode(b"\xef\xbb\xbf" + text.encode()) == text
    html = b"<html><head><meta charset=gb2312></head><body>" + "中文网页".encode("gb2312")
    assert "中文网页" in decode(html, html=True)
    assert decode(text.encode()) == text
    guessed = decode(("Привет, как дела? " * 20).encode("cp1251"))
    assert guessed.startswith("Привет")


def test_classify() -> None:
    assert classify("text/html", b"<p>x") == "html"
    assert classify("", b"<!DOCTYPE html><html>") == "html"
    assert classify("application/ld+json", b"{}") == "json"
    assert classify("application/pdf", b"%PDF-1.4") == "pdf"
    assert classify("image/png", b"\x89PNG\r\n\x1a\n\x00") == "binary"
    assert classify("text/html", b"\x00\x01\x02binary") == "binary"
    assert classify("application/octet-stream", b"\x00\x01") == "binary"
