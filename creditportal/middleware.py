"""Project middleware."""

from django.utils.cache import patch_cache_control


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
        if (signed_in or request.headers.get("authorization")) and not response.has_header(
            "Cache-Control"
        ):
            patch_cache_control(response, no_store=True, private=True)
        return response
