from django.apps import AppConfig


class CreditPortalConfig(AppConfig):
    name = "creditportal"
    verbose_name = "CreditPortal"

    def ready(self):
        from .api import auth  # noqa: F401 - connects the auth cache's signal receivers
