"""Which network addresses codecast connects to for the web's sake: public ones only.

An address found in a page (an icon's URL) or given by a site (a redirect) is web text: it
must not make codecast reach inside its own network (a metadata service, a database, an
admin page on localhost), however it is spelled (127.1, 2130706433, 0x7f000001 all name
127.0.0.1). So the address each connection resolves to is what is checked.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address


class PrivateAddress(Exception):
    """A connection for the web's sake would have gone to a private address."""


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (an IPv4 address inside IPv6 judged as itself)."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
