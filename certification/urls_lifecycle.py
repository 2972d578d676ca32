"""Enablement pages for the certification lifecycle: validity, offering versions, revocation."""

from django.urls import URLPattern, path

from certification.views import lifecycle as views

urlpatterns: list[URLPattern] = [
    path(
        "manage/subjects/<int:subject_id>/lifecycle/",
        views.subject_lifecycle,
        name="manage_subject_lifecycle",
    ),
    path(
        "manage/certifications/<int:certification_id>/revoke/",
        views.certification_revoke_page,
        name="manage_certification_revoke",
    ),
]
