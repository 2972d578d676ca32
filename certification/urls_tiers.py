"""Tier pages: the rep's own, a manager's team, enablement's rule, reps and history."""

from django.urls import URLPattern, path

from certification.views import tiers

urlpatterns: list[URLPattern] = [
    path("tier/", tiers.my_tier, name="my_tier"),
    path("team/tiers/", tiers.team_tiers, name="team_tiers"),
    path("manage/tiers/", tiers.tier_rule_edit, name="manage_tiers"),
    path("manage/tiers/history/", tiers.tier_history_list, name="manage_tier_history"),
    path("manage/tiers/reps/<int:rep_id>/", tiers.rep_tier, name="manage_rep_tier"),
    path(
        "manage/tiers/overrides/<int:override_id>/end/",
        tiers.override_end,
        name="manage_tier_override_end",
    ),
]
