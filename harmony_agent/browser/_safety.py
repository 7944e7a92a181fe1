"""Which addresses the browser may reach.

The model chooses URLs, and pages choose redirects: both are hostile input. Before each
request (the first and every redirect hop) the host is resolved and the request is
refused when any address it resolves to is not a public unicast address: private,
loopback, link-local (cloud metadata at 169.254.169.254 included), shared (100.64/10),
reserved, multicast, unspecified, or an IPv6 form of one of those (IPv4-mapped, the
``fd00:ec2::254`` metadata address). Hosts, addresses and networks in
``allowed_hosts`` skip the check.

The request then connects to the very address that was checked, not to a second
resolution of the name, so DNS rebinding cannot swap in a private address between the
check and the connection (the ``Host`` header and TLS server name stay the original
host's).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["AddressPolicy", "Blocked", "is_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Blocked(Exception):
    """A URL the browser refuses to fetch (the message says why, for the model)."""


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return is_public(mapped)
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Hosts that skip the address check, and how to resolve the others.

    Attributes:
        hosts: lower-case host names allowed as they are (``"localhost"``).
        networks: addresses and networks allowed (``127.0.0.1``, ``10.0.0.0/8``).
    """

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, allowed: Iterable[str] | None) -> AddressPolicy:
        """A policy from ``allowed_hosts`` entries: names, IP addresses or networks."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed or ():
            text = str(entry).strip().lower().strip("[]")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                hosts.add(text.rstrip("."))
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a name or an address literal) is listed."""
        host = host.lower().strip("[]").rstrip(".")
        if host in self.hosts:
            return True
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return self._listed(ip)

    def _listed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)

    async def resolve(self, host: str, port: int) -> str | None:
        """The address to connect to for ``host``, or None to let the client resolve it.

        Raises:
            Blocked: the host does not resolve, or resolves to a refused address.
        """
        bare = host.lower().strip("[]").rstrip(".")
        if bare in self.hosts:
            return None
        try:
            literal: IPAddress | None = ipaddress.ip_address(bare)
        except ValueError:
            literal = None
        if literal is not None:
            if not (is_public(literal) or self._listed(literal)):
                raise Blocked(_refusal(host, literal))
            return None
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                bare, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise Blocked(f"the host {host!r} could not be resolved ({exc})") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
        if not addresses:
            raise Blocked(f"the host {host!r} has no address")
        for ip in addresses:
            if not (is_public(ip) or self._listed(ip)):
                raise Blocked(_refusal(host, ip))
        return str(addresses[0])


def _refusal(host: str, ip: IPAddress) -> str:
    return (
        f"access to {host!r} is refused: it resolves to {ip}, a private, loopback, "
        "link-local or reserved address (add the host to allowed_hosts to permit it)"
    )
