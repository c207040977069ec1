"""Which addresses a feed may send newsbot to (docs/security.md, item 3 of issue 25).

A feed is written by someone else, and its items' links are fetched, saved, indexed and quoted in
Slack: a link to 127.0.0.1, a 10.x host or 169.254.169.254 would read the bot's own network. So a
host is resolved here, every address it resolves to is judged, and the fetch then connects to the
address judged (indexing.arrivals.fetching), so a second lookup cannot answer differently.

- Public (globally routable unicast) addresses are fetched.
- Private, loopback and shared (carrier NAT) addresses only with NEWSBOT_FEEDS_ALLOW_PRIVATE (intranet feeds).
- Link-local (cloud metadata services), multicast, unspecified and reserved addresses never are.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A URL's host is somewhere feeds may not send us; the message says where and why."""


def kind_of(address: IPAddress) -> str:
    """'public', or what the address is: 'loopback', 'private', 'link-local', ..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_unspecified:
        return "unspecified"  # 0.0.0.0 and :: reach this machine
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "shared"  # 100.64.0.0/10 and the like: not on the internet
    return "public"


_INTRANET = frozenset({"private", "loopback", "shared"})


def allowed(kind: str, allow_private: bool) -> bool:
    return kind == "public" or (allow_private and kind in _INTRANET)


def resolve(host: str, port: int, allow_private: bool) -> tuple[int, str]:
    """(family, address) to connect to for host: the first address it resolves to, once every address
    it resolves to is allowed. AddressRefused otherwise; OSError when the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[tuple[int, str]] = []
    for family, _, _, _, sockaddr in infos:
        text = str(sockaddr[0]).split("%")[0]  # a scoped IPv6 address: fe80::1%eth0
        kind = kind_of(ipaddress.ip_address(text))
        if not allowed(kind, allow_private):
            hint = " (NEWSBOT_FEEDS_ALLOW_PRIVATE=true allows intranet hosts)" if kind in _INTRANET else ""
            raise AddressRefused(f"refused: {host} is at {text}, a {kind} address{hint}")
        found.append((family, text))
    if not found:
        raise OSError(f"{host} resolves to no address")
    return found[0]
