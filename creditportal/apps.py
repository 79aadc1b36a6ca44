from django.apps import AppConfig


class CreditPortalConfig(AppConfig):
    name = "creditportal"
    verbose_name = "CreditPortal"

    def ready(self):
        # Signal receivers: the permissions version (auth), token rotation (tokens).
        from .api import auth, tokens  # noqa: F401
