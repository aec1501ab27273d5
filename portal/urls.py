"""The portal's addresses (Finnish paths, as the city's services use)."""

from django.conf import settings
from django.urls import include, path
from django.views.static import serve

from portal import consent_views, contact_views, erase_views, mydata, statement_views, views

urlpatterns = [
    path("", views.index, name="index"),
    path("tietosuoja/", views.notice, name="notice"),
    path("tietosuoja/<str:version>/", consent_views.notice_version, name="notice_version"),
    path("kirjautuminen-epaonnistui/", views.login_failed, name="login_failed"),
    path("omat-tiedot/", mydata.page, name="my_data"),
    path("omat-tiedot.json", mydata.download, name="my_data_json"),
    path("postinumero/", contact_views.home_page, name="home"),
    path("ota-yhteytta/", contact_views.contact_page, name="contact"),
    path("peru/<str:purpose>/", contact_views.withdraw, name="withdraw"),
    path("ala-ota-yhteytta/", contact_views.do_not_contact, name="do_not_contact"),
    path("suostumus/", consent_views.consent_page, name="consent"),
    path("kuitti/<uuid:receipt>/", consent_views.receipt_page, name="receipt"),
    path("kuitti/<uuid:receipt>.json", consent_views.receipt_download, name="receipt_json"),
    path("oidc/authenticate/", views.login_start, name="login_start"),
    path("oidc/callback/", views.LoginCallback.as_view(), name="login_callback"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    # The stylesheet (CSP allows no inline style). One small file: Django serves it.
    path("static/<path:path>", serve, {"document_root": settings.STATIC_ROOT}),
    path("poista/", erase_views.erase_page, name="erase"),
    path("poistettu/", erase_views.erased_page, name="erased"),
    path("gdpr-api/", include("helsinki_gdpr.urls")),
    path("saavutettavuus/", statement_views.statement, name="accessibility"),
]
