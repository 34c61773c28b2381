"""The client address of a request, trusting X-Forwarded-For only from known proxies."""

import ipaddress

from starlette.types import Scope


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address, proxies) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(scope: Scope, proxies: tuple) -> str:
    """Return the address of the client that sent the request.

    X-Forwarded-For is read right to left while each hop is a trusted proxy,
    so a client cannot choose its own address by sending the header itself.
    """
    peer = scope.get("client")
    peer_host = peer[0] if peer else "unknown"
    address = _parse(peer_host)
    if not proxies or not _trusted(address, proxies):
        return peer_host
    forwarded = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded.extend(value.decode("latin-1").split(","))
    for hop in reversed(forwarded):
        hop_address = _parse(hop)
        if hop_address is None:
            break
        address = hop_address
        if not _trusted(address, proxies):
            break
    return str(address)
