"""The portal's addresses (Finnish paths, as the city's services use)."""

from django.conf import settings
from django.urls import include, path
from django.views.static import serve

from portal import consent_views, erase_views, views

urlpatterns = [
    path("", views.index, name="index"),
    path("tietosuoja/", views.notice, name="notice"),
    path("tietosuoja/<str:version>/", consent_views.notice_version, name="notice_version"),
    path("kirjautuminen-epaonnistui/", views.login_failed, name="login_failed"),
    path("omat-tiedot/", views.my_data, name="my_data"),
    path("suostumus/", consent_views.consent_page, name="consent"),
    path("kuitti/<uuid:receipt>/", consent_views.receipt_page, name="receipt"),
    path("kuitti/<uuid:receipt>.json", consent_views.receipt_download, name="receipt_json"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    # The stylesheet (CSP allows no inline style). One small file: Django serves it.
    path("static/<path:path>", serve, {"document_root": settings.STATIC_ROOT}),
    path("poista/", erase_views.erase_page, name="erase"),
    path("poistettu/", erase_views.erased_page, name="erased"),
    path("gdpr-api/", include("helsinki_gdpr.urls")),
]
