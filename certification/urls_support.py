"""Teleprospecting support pages: the rep's /support/ and the lead's /teleprospecting/."""

from django.urls import URLPattern, path

from certification.views import support

urlpatterns: list[URLPattern] = [
    # Reps
    path("support/", support.my_support, name="support"),
    path(
        "support/requests/<int:request_id>/withdraw/",
        support.support_withdraw,
        name="support_withdraw",
    ),
    # The teleprospecting lead
    path("teleprospecting/", support.tp_periods, name="tp_periods"),
    path("teleprospecting/periods/new/", support.tp_period_new, name="tp_period_new"),
    path("teleprospecting/periods/<int:period_id>/", support.tp_period, name="tp_period"),
    path(
        "teleprospecting/periods/<int:period_id>/edit/",
        support.tp_period_edit,
        name="tp_period_edit",
    ),
    path(
        "teleprospecting/periods/<int:period_id>/allocate/",
        support.tp_allocate,
        name="tp_allocate",
    ),
    path("teleprospecting/outcomes/", support.tp_outcomes, name="tp_outcomes"),
]
