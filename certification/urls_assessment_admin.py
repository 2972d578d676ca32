"""Enablement pages for levels 2 and 3: guides, scenarios, sessions, delegations, calibration."""

from django.urls import URLPattern, path

from certification.views import assessment_admin as views

urlpatterns: list[URLPattern] = [
    # Guides
    path("manage/guides/", views.guide_list, name="manage_guides"),
    path("manage/guides/new/", views.guide_new, name="manage_guide_new"),
    path("manage/guides/<int:guide_id>/", views.guide_detail, name="manage_guide"),
    path("manage/guides/<int:guide_id>/edit/", views.guide_edit, name="manage_guide_edit"),
    # Scenarios
    path("manage/scenarios/", views.scenario_list, name="manage_scenarios"),
    path("manage/scenarios/new/", views.scenario_new, name="manage_scenario_new"),
    path("manage/scenarios/<int:scenario_id>/", views.scenario_edit, name="manage_scenario"),
    # Sessions
    path("manage/sessions/", views.session_list, name="manage_sessions"),
    path("manage/sessions/new/", views.session_new, name="manage_session_new"),
    path(
        "manage/sessions/<int:session_id>/cancel/",
        views.session_cancel,
        name="manage_session_cancel",
    ),
    # Level-3 observers named by enablement
    path("manage/delegations/", views.delegation_list, name="manage_delegations"),
    path(
        "manage/delegations/<int:delegation_id>/remove/",
        views.delegation_remove,
        name="manage_delegation_remove",
    ),
    # Judge calibration
    path("manage/calibration/", views.calibration, name="manage_calibration"),
]
