"""Who is asking: the client's address, the one rule for throttling and the login lockout."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`.

    With no proxy in front (CREDITPORTAL_TRUSTED_PROXIES = 0, the default), the connection's
    own address: an `X-Forwarded-For` header is then the client's own words and is ignored,
    so a new one on each request cannot dodge a limit. Behind N proxies that each append
    the address they received the request from, the N-th address from the right is the
    client's (the ones further left were written by the client and are not believed), as
    long as it is an IP address. The web processes must then be reachable only through
    those proxies (docs/deployment.md), or a client could write that address itself.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.CREDITPORTAL_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if not forwarded:
        return remote
    claimed = forwarded[-min(proxies, len(forwarded))]
    try:  # a proxy wrote an address; anything else (a port, a name, junk) is not believed
        return str(ipaddress.ip_address(claimed))
    except ValueError:
        return remote
