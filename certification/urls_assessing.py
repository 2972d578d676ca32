"""Pages for levels 2 and 3 as the participants use them: reps, judges, role-players, managers."""

from django.urls import URLPattern, path

from certification.views import assessing

urlpatterns: list[URLPattern] = [
    # Level 2: role-play assessments
    path("assessments/", assessing.assessments, name="assessments"),
    path("assessments/<int:session_id>/", assessing.session, name="session"),
    path("assessments/<int:session_id>/score/", assessing.session_score, name="session_score"),
    path(
        "assessments/<int:session_id>/release/",
        assessing.session_release,
        name="session_release",
    ),
    # Level 3: field execution
    path("field/", assessing.field, name="field"),
    path("field/new/", assessing.observation_new, name="observation_new"),
    path("field/<int:observation_id>/", assessing.observation, name="observation"),
    path("signoffs/<int:signoff_id>/", assessing.signoff, name="signoff"),
    path(
        "signoffs/<int:signoff_id>/acknowledge/",
        assessing.signoff_acknowledge,
        name="signoff_acknowledge",
    ),
    path(
        "signoffs/<int:signoff_id>/correct/",
        assessing.signoff_correct,
        name="signoff_correct",
    ),
    path("signoffs/<int:signoff_id>/revoke/", assessing.signoff_revoke, name="signoff_revoke"),
]
