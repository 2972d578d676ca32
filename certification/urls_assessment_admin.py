"""Enablement pages for levels 2 and 3: guides, scenarios, sessions, delegations, calibration."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
