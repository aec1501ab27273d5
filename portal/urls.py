"""The portal's addresses (Finnish paths, as the city's services use)."""

from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.index, name="index"),
    path("tietosuoja/", views.notice, name="notice"),
    path("kirjautuminen-epaonnistui/", views.login_failed, name="login_failed"),
    path("omat-tiedot/", views.my_data, name="my_data"),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
