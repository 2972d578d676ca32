"""URL map: pages, the versioned API, its schema and docs, and the admin site."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import admin_login

# One sign-in page for everyone, with its lockout, instead of the admin's own.
admin.site.login = admin_login  # type: ignore[method-assign,assignment]

api_v1 = [
    path("", include("accounts.api.v1.urls")),
    path("", include("certification.api.v1.urls")),
]

urlpatterns = [
    path("", include("certification.urls")),
    path("", include("accounts.urls")),
    path("api/v1/", include((api_v1, "api-v1"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

handler404 = "config.handlers.page_not_found"
