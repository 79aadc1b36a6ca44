"""Project middleware: answers kept out of caches, and sessions that end when left idle."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import patch_cache_control

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
            signed_in or request.headers.get("authorization") or request.path.startswith("/api/")
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
