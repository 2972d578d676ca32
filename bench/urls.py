"""The project's URLs plus the bench's floor: a bare view served by the same gunicorn."""

from django.urls import include, path

from bench.views import bare

urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("config.urls")),
]
