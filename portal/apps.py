"""The portal's Django app."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Ennakko consent portal"
    default_auto_field = "django.db.models.BigAutoField"
