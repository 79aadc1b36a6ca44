from django.apps import AppConfig


class CreditPortalConfig(AppConfig):
    name = "creditportal"
    verbose_name = "CreditPortal"

    def ready(self):
        from . import api_auth  # noqa: F401 - connects the auth cache's signal receivers
