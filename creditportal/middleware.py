"""Project middleware: answers kept out of caches, sessions that end when left idle, and the
second factor of those who need one."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from .two_factor import second_factor_required, user_has_two_factor

# Sent by static/js/progress.js: a page polling for a job's progress is not someone at work.
BACKGROUND_POLL_HEADER = "X-Background-Poll"


class PrivatePagesNotStored:
    """`Cache-Control: no-store` on every answer to a signed-in user: pages and API bodies
    carry applicants' personal data, which neither a shared proxy nor the browser's cache
    (on a shared branch computer) may keep. An answer that already says how it may be
    cached (a download, a static file) keeps its own rule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        # Every API answer too: the token endpoint's carries a token for an anonymous caller.
        private = (
            signed_in
            or request.headers.get("authorization")
            or request.path_info.startswith("/api/")
        )
        if private and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


class IdleSessionTimeout:
    """Sign a portal user out after DJANGO_SESSION_IDLE_SECONDS without a request of theirs,
    and SESSION_COOKIE_AGE after signing in whatever they do.

    A page's own polling (job progress, marked with BACKGROUND_POLL_HEADER) is not activity:
    a job page left open on a branch computer must not keep the session alive. The time of
    the last activity is written at most once a minute, not on every request.
    """

    KEY = "last_activity"
    STARTED = "signed_in_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(self.KEY)
            started = request.session.setdefault(self.STARTED, now)
            # Renewing the cookie would move Django's own expiry on: the absolute limit
            # (SESSION_COOKIE_AGE after signing in) is kept here.
            too_old = now - started > settings.SESSION_COOKIE_AGE
            if too_old or (last is not None and now - last > settings.SESSION_IDLE_SECONDS):
                logout(request)
            elif not request.headers.get(BACKGROUND_POLL_HEADER) and (
                last is None or now - last > 60
            ):
                request.session[self.KEY] = now
        return self.get_response(request)


class SecondFactorRequired:
    """Keep a signed-in user who needs a second factor (creditportal.two_factor) and has not
    given one in this session out of everything but signing out and the two-factor pages:
    a portal page, the dashboard or the Django admin redirects to the verify page (or to the
    setup page when they have no authenticator yet); for the API the session counts for no
    one (a token still does, and getting one asks for `otp`).

    After django-otp's OTPMiddleware, which tells whether the session's device is verified.
    """

    EXEMPT_VIEWS = frozenset(
        {"login", "logout", "health", "admin:logout", "two_factor:verify", "two_factor:setup"}
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match.view_name in self.EXEMPT_VIEWS:
            return None
        if not second_factor_required(user):
            return None
        if request.path_info.startswith("/api/"):
            request.user = AnonymousUser()
            return None
        target = "two_factor:verify" if user_has_two_factor(user) else "two_factor:setup"
        url = reverse(target)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
