"""DRF's rate throttles, keyed by `creditportal.network.client_ip` (the address the login
lockout uses too) instead of DRF's own reading of `X-Forwarded-For`, which believes the
header whenever no proxy count is configured."""

from rest_framework import throttling

from creditportal.network import client_ip


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request) -> str:
        return client_ip(request)
