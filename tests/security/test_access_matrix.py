"""The access matrix: every page and every API operation, as every role, against rep A's world.

Routes are discovered when the tests are collected: pages from the URL conf (walked through
every include), API operations from the OpenAPI schema (and every API view's methods are
checked against the schema, so an endpoint left out of it is caught too). Each route must be
classified below, in PAGES or OPERATIONS: a new route fails ``test_page_*`` / ``test_api``
with a message saying where to add it.

For each (route, role) the matrix asserts the status class:

- allowed: 2xx, a redirect that is not to the sign-in page, or 409 (the object's state refused
  the request, past the permission check); for unsafe methods also 400 / 415 (the input
  refused, past the permission check too);
- refused: anonymous people are sent to sign in (pages) or get 401 / 403 (API); signed-in
  people get 404 (the product hides what they may not know exists), 403, or 405 where the
  method is not offered to anyone.

Unsafe methods (POST / PUT / PATCH / DELETE) are sent as every role, with a valid payload
where the use case takes one; every statement that changes a row is recorded (``WriteWatch``)
and a refused request may change none. Where ``writes`` is set, the roles let through must
really write: the refusals are refusals of a real write, not of bad input. Each request runs
in a savepoint that is rolled back, so every role meets the same world.

Every response body is also searched for the strings planted in rep A's records (see
``tests/security/conftest.py``): each may reach only the roles the product allows
(``SECRETS_ALLOWED``); ``test_the_planted_strings_reach_those_allowed`` shows they are there
to be found. Lists and reports are also asked for A's team, region, manager, name and email by
people outside A's circle, refusals are compared with those for ids that exist nowhere, and
API tokens are tried with each scope.

Exempt from the walk: Django's admin (``EXEMPT_PREFIXES``). Added to it: ``/healthz``, which a
middleware answers outside the URL conf (``EXTRA_PAGES``).
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from tests.security.conftest import (
    A_EMAIL,
    A_NAME,
    DRAFT_SCORES,
    KEY_FEEDBACK,
    KEY_GENERAL,
    PANEL_FEEDBACK,
    PANEL_SCORES,
    ROLES,
    SIGNOFF_COMMENT,
    SUPPORT_PURPOSE,
    TIER_REASON,
    World,
)

pytestmark = pytest.mark.django_db

# Roles ------------------------------------------------------------------------------------------

ANON = "anonymous"
A, B = "rep_a", "rep_b"
MA, MO = "manager_a", "manager_other"
JON, JOFF, RP = "judge_on", "judge_off", "role_player"
EN, TP, AD = "enablement", "tp_lead", "admin"

PUBLIC = frozenset(ROLES)
SIGNED_IN = PUBLIC - {ANON}
NOBODY: frozenset[str] = frozenset()
REPS = frozenset({A, B})
MANAGERS = frozenset({MA, MO})
READERS = MANAGERS | {EN}  # who reads readiness reports and exports them


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


# Expectations ------------------------------------------------------------------------------------

Data = Callable[[World], Any]


@dataclass(frozen=True)
class Page:
    """Who may GET the page and who may POST to it.

    ``post=None``: the page has no action (a POST writes nothing for anyone, and is refused to
    whoever may not GET). ``get=NOBODY``: POST only (a GET is refused, or 405, for everyone).
    ``use`` maps a URL keyword to a key of ``World.named`` instead of ``World.ids``.
    ``answer_key_free``: rep A's open attempt: no answer key in what rep A receives.
    ``api_like``: answers anonymous people with 401/403 rather than a sign-in redirect.
    ``lands_on_login``: a POST that is let through ends on the sign-in page (signing out).
    ``writes``: the POST (with ``data``) really writes for the roles let through, so the
    refusals of everyone else are refusals of a real write, not of bad input.
    ``shows``: kinds of planted strings the page shows whoever holds its link.
    """

    get: frozenset[str]
    post: frozenset[str] | None = None
    use: dict[str, str] = field(default_factory=dict)
    data: Data | None = None
    answer_key_free: bool = False
    api_like: bool = False
    lands_on_login: bool = False
    writes: bool = False
    shows: frozenset[str] = NOBODY


@dataclass(frozen=True)
class Op:
    """Who may call the API operation; ``query`` and ``data`` are sent with it; with
    ``writes``, the call really writes for the roles let through (see ``Page``)."""

    allowed: frozenset[str]
    use: dict[str, str] = field(default_factory=dict)
    data: Data | None = None
    query: Data | None = None
    answer_key_free: bool = False
    writes: bool = False


E = only(EN)

# Every page in the URL conf, by URL name. Keep in sync with the product brief: results are the
# rep's, their managers', the panel's and enablement's; buyer briefs and judge notes never the
# rep's; teleprospecting is the lead's; accounts are the admin's.
PAGES: dict[str, Page] = {
    # Everyone signed in ---------------------------------------------------------------------
    "certification:home": Page(get=SIGNED_IN),
    "certification:notifications": Page(get=SIGNED_IN),
    "certification:notification_read": Page(get=NOBODY, post=only(A), writes=True),
    "certification:notifications_read_all": Page(get=NOBODY, post=SIGNED_IN),
    "certification:notification_preferences": Page(get=SIGNED_IN, post=SIGNED_IN),
    "accounts:profile": Page(get=SIGNED_IN, post=SIGNED_IN),
    "accounts:token_list": Page(get=SIGNED_IN, post=SIGNED_IN),
    "accounts:token_revoke": Page(get=NOBODY, post=only(A), writes=True),
    "accounts:password_change": Page(get=SIGNED_IN, post=SIGNED_IN),
    "accounts:password_change_done": Page(get=SIGNED_IN),
    "accounts:logout": Page(get=NOBODY, post=SIGNED_IN, lands_on_login=True),
    "api-docs": Page(get=SIGNED_IN),
    "api-schema": Page(get=SIGNED_IN, api_like=True),
    # Public: sign-in, password reset, verification of a credential, the issuer's keys, and
    # the signed link in every email (the link itself is the credential) -------------------
    "accounts:login": Page(get=PUBLIC, post=PUBLIC),
    "accounts:password_reset": Page(get=PUBLIC, post=PUBLIC),
    "accounts:password_reset_done": Page(get=PUBLIC),
    "accounts:password_reset_confirm": Page(get=PUBLIC, post=PUBLIC, use={"token": "reset_token"}),
    "accounts:password_reset_complete": Page(get=PUBLIC),
    # Verifying a credential shows whose it is to whoever was given the link.
    "certification:verify": Page(get=PUBLIC, shows=only("identity", "certification id")),
    "certification:verify_status": Page(get=PUBLIC),
    "certification:jwks": Page(get=PUBLIC),
    "certification:notification_preferences_token": Page(
        get=PUBLIC, post=PUBLIC, shows=only("identity")
    ),
    "health": Page(get=PUBLIC),
    # Reps: level 1 ------------------------------------------------------------------------------
    "certification:my_tests": Page(get=REPS),
    # The test is assigned to both reps: B starts (or resumes) B's own attempt.
    "certification:exam_start": Page(get=NOBODY, post=REPS, answer_key_free=True),
    "certification:attempt": Page(get=only(A), answer_key_free=True),
    "certification:attempt_save": Page(
        get=NOBODY,
        post=only(A),
        data=lambda w: {
            "question": [w.ids["question_id"]],
            f"q{w.ids['question_id']}": [w.named["choice_id"]],
        },
        answer_key_free=True,
        writes=True,
    ),
    "certification:attempt_result": Page(get=only(A), use={"attempt_id": "finished_attempt"}),
    "certification:my_certifications": Page(get=REPS),
    "certification:credential_download": Page(get=only(A)),
    "certification:certificate_download": Page(get=only(A)),
    "certification:my_tier": Page(get=REPS),
    "certification:my_readiness": Page(get=REPS),
    "certification:support": Page(get=REPS, post=REPS),
    "certification:support_withdraw": Page(get=NOBODY, post=only(A), writes=True),
    # Levels 2 and 3 -------------------------------------------------------------------------
    "certification:assessments": Page(get=SIGNED_IN - {TP, AD}),
    # A's released session: A, A's manager, the panel, the role-player, the owner (enablement).
    "certification:session": Page(get=only(A, MA, JON, RP, EN)),
    "certification:session_score": Page(
        get=only(JON),
        post=only(JON),
        use={"session_id": "scheduled_session"},
        data=lambda w: w.named["rating_form"],
        writes=True,
    ),
    "certification:session_release": Page(
        get=NOBODY, post=E, use={"session_id": "scheduled_session"}
    ),
    "certification:field": Page(get=REPS | MANAGERS | {EN}),
    "certification:observation_new": Page(get=MANAGERS, post=MANAGERS),
    "certification:observation": Page(get=only(MA), post=only(MA)),
    "certification:signoff": Page(get=only(A, MA, EN)),
    "certification:signoff_acknowledge": Page(get=NOBODY, post=only(A), writes=True),
    "certification:signoff_correct": Page(
        get=only(MA, EN),
        post=only(MA, EN),
        data=lambda w: {**w.named["signoff_form"], "reason": "Wrong opportunity"},
        writes=True,
    ),
    "certification:signoff_revoke": Page(
        get=NOBODY,
        post=only(MA, EN),
        data=lambda _w: {"reason": "Not the rep's meeting"},
        writes=True,
    ),
    # Managers and enablement: readiness, tiers, exports ---------------------------------------
    "certification:team_readiness": Page(get=MANAGERS),
    "certification:team_tiers": Page(get=READERS),
    "certification:report_readiness": Page(get=READERS),
    "certification:report_matrix": Page(get=READERS),
    "certification:report_gaps": Page(get=READERS),
    "certification:report_trends": Page(get=READERS),
    "certification:report_requirements": Page(get=READERS),
    "certification:report_subscription": Page(get=NOBODY, post=READERS),
    "certification:report_export": Page(
        get=NOBODY, post=READERS, data=lambda _w: {"table": "matrix", "format": "csv"}
    ),
    "certification:report_exports": Page(get=READERS),
    # A job is its owner's alone (A's manager started it), other enablement leads included.
    "certification:report_export_job": Page(get=only(MA)),
    "certification:report_export_progress": Page(get=only(MA)),
    "certification:report_export_download": Page(get=only(MA)),
    "certification:manage_rep_tier": Page(get=only(MA, EN), post=E),
    "accounts:people": Page(get=READERS | {AD}),
    # Enablement ---------------------------------------------------------------------------------
    "certification:report_requirement_new": Page(get=E, post=E),
    "certification:report_requirement_edit": Page(get=E, post=E),
    "certification:report_requirement_delete": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_subjects": Page(get=E, post=E),
    "certification:manage_subject_edit": Page(get=E, post=E),
    "certification:manage_subject_lifecycle": Page(get=E, post=E),
    "certification:manage_certification_revoke": Page(
        get=NOBODY, post=E, data=lambda _w: {"reason": "Cheated"}, writes=True
    ),
    "certification:manage_banks": Page(get=E, post=E),
    "certification:manage_bank": Page(get=E),
    "certification:manage_bank_edit": Page(get=E, post=E),
    "certification:manage_bank_import": Page(get=E, post=E),
    "certification:manage_question_new": Page(get=E, post=E),
    "certification:manage_question": Page(get=E),
    "certification:manage_question_edit": Page(get=E, post=E),
    "certification:manage_question_toggle": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_exams": Page(get=E),
    "certification:manage_exam_new": Page(get=E, post=E),
    "certification:manage_exam": Page(get=E),
    "certification:manage_exam_edit": Page(get=E, post=E),
    "certification:manage_exam_sections": Page(get=E, post=E),
    "certification:manage_exam_publish": Page(get=NOBODY, post=E),
    "certification:manage_exam_archive": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_exam_assign": Page(get=E, post=E),
    "certification:manage_assignment_remove": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_exam_results": Page(get=E),
    "certification:manage_exam_items": Page(get=E),
    "certification:manage_attempt": Page(get=E, use={"attempt_id": "finished_attempt"}),
    "certification:manage_guides": Page(get=E),
    "certification:manage_guide_new": Page(get=E, post=E),
    "certification:manage_guide": Page(get=E),
    "certification:manage_guide_edit": Page(get=E, post=E),
    "certification:manage_scenarios": Page(get=E),
    "certification:manage_scenario_new": Page(get=E, post=E),
    "certification:manage_scenario": Page(get=E, post=E),
    "certification:manage_sessions": Page(get=E),
    "certification:manage_session_new": Page(get=E, post=E),
    "certification:manage_session_cancel": Page(
        get=NOBODY,
        post=E,
        use={"session_id": "scheduled_session"},
        data=lambda _w: {"reason": "Room unavailable"},
        writes=True,
    ),
    "certification:manage_delegations": Page(get=E, post=E),
    "certification:manage_delegation_remove": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_calibration": Page(get=E),
    "certification:manage_tiers": Page(get=E, post=E),
    "certification:manage_tier_history": Page(get=E),
    "certification:manage_tier_override_end": Page(get=NOBODY, post=E, writes=True),
    "certification:manage_deals": Page(get=E),
    "certification:manage_deal_import": Page(get=E, post=E),
    "certification:manage_deal_export": Page(get=E),
    "certification:manage_deal_rates": Page(get=E, post=E),
    "certification:manage_deal_rate_edit": Page(get=E, post=E),
    # The teleprospecting lead -----------------------------------------------------------------
    "certification:tp_periods": Page(get=only(TP)),
    "certification:tp_period_new": Page(get=only(TP), post=only(TP)),
    "certification:tp_period": Page(get=only(TP)),
    "certification:tp_period_edit": Page(get=only(TP), post=only(TP)),
    "certification:tp_allocate": Page(get=NOBODY, post=only(TP), writes=True),
    "certification:tp_outcomes": Page(get=only(TP), post=only(TP)),
}

# Routes outside the URL conf that the matrix still walks.
EXTRA_PAGES = {"health": "/healthz"}

# What the walk leaves out, and why.
EXEMPT_PREFIXES = {
    "admin/": "Django's admin: raw data for admins only (is_staff), tested in "
    "tests/accounts/test_admin.py",
}

# Every API operation in the OpenAPI schema, by operationId.
OPERATIONS: dict[str, Op] = {
    # Accounts and tokens ----------------------------------------------------------------------
    # Signing in for a token: the password is the credential.
    "auth_token_create": Op(allowed=PUBLIC),
    "auth_tokens_list": Op(allowed=SIGNED_IN),
    "auth_tokens_destroy": Op(allowed=only(A), writes=True),
    "me_retrieve": Op(allowed=SIGNED_IN),
    "teams_list": Op(allowed=SIGNED_IN),
    "teams_retrieve": Op(allowed=only(A, MA, EN, TP, AD)),
    "users_list": Op(allowed=SIGNED_IN),
    "users_retrieve": Op(allowed=only(A, MA, EN, AD)),
    "notifications_list": Op(allowed=SIGNED_IN),
    "notifications_read_create": Op(allowed=only(A), writes=True),
    # Reps: level 1 ----------------------------------------------------------------------------
    "exams_list": Op(allowed=REPS),
    "exams_attempts_create": Op(allowed=REPS, answer_key_free=True),
    "attempts_retrieve": Op(allowed=only(A), answer_key_free=True),
    "attempts_answers_update": Op(
        allowed=only(A),
        data=lambda w: {"choices": [w.named["choice_id"]]},
        answer_key_free=True,
        writes=True,
    ),
    "attempts_finish_create": Op(allowed=only(A), writes=True),
    "certifications_list": Op(allowed=REPS),
    "certifications_credential_retrieve": Op(allowed=only(A)),
    # Levels 2 and 3 -------------------------------------------------------------------------
    "assessments_mine_list": Op(allowed=REPS),
    "assessments_judging_list": Op(allowed=SIGNED_IN),
    "assessments_retrieve": Op(allowed=only(A, MA, JON, RP, EN)),
    # Whoever sees the session may ask; each gets only the scorecards they may read.
    "assessments_scorecard_list": Op(
        allowed=only(A, MA, JON, RP, EN), use={"session_id": "scheduled_session"}
    ),
    "assessments_scorecard_update": Op(
        allowed=only(JON),
        use={"session_id": "scheduled_session"},
        data=lambda w: w.named["rating_json"],
        writes=True,
    ),
    "assessments_release_retrieve": Op(allowed=E, use={"session_id": "scheduled_session"}),
    "assessments_release_create": Op(allowed=E, use={"session_id": "scheduled_session"}),
    "observations_list": Op(allowed=SIGNED_IN),
    "observations_create": Op(
        allowed=only(MA), data=lambda w: w.named["observation_json"], writes=True
    ),
    "observations_retrieve": Op(allowed=only(MA)),
    "observations_update": Op(
        allowed=only(MA), data=lambda w: {"ratings": w.named["observation_ratings"]}, writes=True
    ),
    "observations_sign_create": Op(allowed=only(MA), writes=True),
    "signoffs_list": Op(allowed=SIGNED_IN),
    "signoffs_retrieve": Op(allowed=only(A, MA, EN)),
    "signoffs_acknowledge_create": Op(allowed=only(A), writes=True),
    "signoffs_correct_create": Op(
        allowed=only(MA, EN),
        data=lambda w: {"ratings": w.named["signoff_ratings"], "reason": "Wrong opportunity"},
        writes=True,
    ),
    "signoffs_revoke_create": Op(
        allowed=only(MA, EN), data=lambda _w: {"reason": "Not the rep's meeting"}, writes=True
    ),
    # Teleprospecting support ------------------------------------------------------------------
    "support_entitlements_retrieve": Op(
        allowed=only(A, MA, EN, TP), query=lambda w: {"rep": w.org.rep_a.email}
    ),
    "support_usage_create": Op(
        allowed=only(TP),
        data=lambda w: {
            "rep": w.org.rep_a.email,
            "hours": "1.5",
            "meetings_set": 1,
            "idempotency_key": "matrix-usage-1",
        },
        writes=True,
    ),
    # Readiness reports and exports --------------------------------------------------------------
    "reports_readiness_retrieve": Op(allowed=READERS),
    "reports_readiness_summary_retrieve": Op(allowed=READERS),
    "reports_requirements_list": Op(allowed=READERS),
    "reports_requirements_create": Op(allowed=E),
    "reports_requirements_retrieve": Op(allowed=E),
    "reports_requirements_update": Op(allowed=E),
    "reports_requirements_destroy": Op(allowed=E, writes=True),
    "reports_exports_create": Op(
        allowed=READERS, data=lambda _w: {"table": "matrix", "format": "csv"}, writes=True
    ),
    "reports_exports_retrieve": Op(allowed=only(MA)),
    "reports_exports_download_retrieve": Op(allowed=only(MA)),
    # Enablement ---------------------------------------------------------------------------------
    "deals_bulk_create": Op(allowed=E),
    "manage_deals_list": Op(allowed=E),
    "manage_subjects_list": Op(allowed=E),
    "manage_subjects_create": Op(allowed=E),
    "manage_subjects_retrieve": Op(allowed=E),
    "manage_subjects_partial_update": Op(allowed=E),
    "manage_subjects_validity_retrieve": Op(allowed=E),
    "manage_subjects_validity_update": Op(allowed=E),
    "manage_subjects_versions_list": Op(allowed=E),
    "manage_subjects_versions_create": Op(allowed=E),
    "manage_certifications_revoke_create": Op(
        allowed=E, data=lambda _w: {"reason": "Cheated"}, writes=True
    ),
    "manage_banks_list": Op(allowed=E),
    "manage_banks_create": Op(allowed=E),
    "manage_banks_retrieve": Op(allowed=E),
    "manage_banks_partial_update": Op(allowed=E),
    "manage_banks_import_create": Op(allowed=E),
    "manage_banks_questions_list": Op(allowed=E),
    "manage_banks_questions_create": Op(allowed=E),
    "manage_questions_retrieve": Op(allowed=E),
    "manage_questions_update": Op(allowed=E),
    "manage_questions_partial_update": Op(allowed=E),
    "manage_exams_list": Op(allowed=E),
    "manage_exams_create": Op(allowed=E),
    "manage_exams_retrieve": Op(allowed=E),
    "manage_exams_partial_update": Op(allowed=E),
    "manage_exams_sections_update": Op(allowed=E),
    "manage_exams_publish_create": Op(allowed=E),
    "manage_exams_archive_create": Op(allowed=E, writes=True),
    "manage_exams_assignments_list": Op(allowed=E),
    "manage_exams_assignments_create": Op(allowed=E),
    "manage_assignments_destroy": Op(allowed=E, writes=True),
    "manage_exams_results_list": Op(allowed=E),
    "manage_exams_item_analysis_list": Op(allowed=E),
    "manage_attempts_retrieve": Op(allowed=E, use={"attempt_id": "finished_attempt"}),
    "manage_guides_list": Op(allowed=E),
    "manage_guides_create": Op(allowed=E),
    "manage_guides_retrieve": Op(allowed=E),
    "manage_guides_update": Op(allowed=E),
    "manage_scenarios_list": Op(allowed=E),
    "manage_scenarios_create": Op(allowed=E),
    "manage_scenarios_retrieve": Op(allowed=E),
    "manage_scenarios_partial_update": Op(allowed=E),
    "manage_sessions_list": Op(allowed=E),
    "manage_sessions_create": Op(allowed=E),
    "manage_sessions_cancel_create": Op(
        allowed=E,
        use={"session_id": "scheduled_session"},
        data=lambda _w: {"reason": "Room unavailable"},
        writes=True,
    ),
    "manage_calibration_list": Op(allowed=E),
    "manage_delegations_list": Op(allowed=E),
    "manage_delegations_create": Op(allowed=E),
    "manage_delegations_destroy": Op(allowed=E, writes=True),
}

# Where the planted strings may appear: the roles allowed to receive each.
SECRETS_ALLOWED = {
    # A's scenarios' buyer briefs: the panel, the role-player, enablement (who owns them).
    "buyer brief": only(JON, RP, EN),
    # A's guides' judge notes: the panel and enablement.
    "judge notes": only(JON, EN),
    # The feedback in A's finished test: A (after finishing), enablement reviewing it.
    "answer key": only(A, EN),
    # A's released role-play feedback: A, A's manager, the panel, enablement; never the
    # role-player, who plays the buyer and may be another rep.
    "panel feedback": only(A, MA, JON, EN),
    # Before release, a judge's draft is theirs alone...
    "draft scores": only(JON),
    # ...and submitted scores are for the owner (enablement) and the judges who have submitted
    # their own (not judge_on, whose card is still a draft); never the rep or the manager.
    "submitted scores before release": only(EN),
    # A's sign-off: A, the manager who signed it, enablement.
    "sign-off comment": only(A, MA, EN),
    # Why A has A's tier: A, A's manager, enablement.
    "tier reason": only(A, MA, EN),
    # What A asked support for: A, A's manager, enablement, the teleprospecting lead.
    "support purpose": only(A, MA, EN, TP),
    # A's certification's public id (anyone holding the link may verify it).
    "certification id": only(A, MA, EN),
    # Who A is: A, A's manager, A's panel and buyer, enablement, the teleprospecting lead (A
    # asked for support) and the admin (accounts); never another rep, another team's
    # manager or another panel's judge.
    "identity": only(A, MA, JON, RP, EN, TP, AD),
}


def secrets_of(world: World) -> dict[str, list[str]]:
    return {
        "buyer brief": world.buyer_briefs,
        "judge notes": world.judge_notes,
        "answer key": [KEY_FEEDBACK, KEY_GENERAL],
        "panel feedback": [PANEL_FEEDBACK],
        "draft scores": [DRAFT_SCORES],
        "submitted scores before release": [PANEL_SCORES],
        "sign-off comment": [SIGNOFF_COMMENT],
        "tier reason": [TIER_REASON],
        "support purpose": [SUPPORT_PURPOSE],
        "certification id": [str(world.ids["public_id"])],
        "identity": [A_NAME, A_EMAIL],
    }


# Discovery -----------------------------------------------------------------------------------

KWARG = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    name: str
    route: str  # e.g. "attempts/<int:attempt_id>/"
    callback: Any

    @property
    def kwargs(self) -> list[str]:
        return KWARG.findall(self.route)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or ""
            yield Route(
                f"{namespace}:{name}" if namespace and name else name, route, pattern.callback
            )


def _exempt(route: str) -> bool:
    return any(route.startswith(prefix) for prefix in EXEMPT_PREFIXES)


ALL_ROUTES = [r for r in _walk(get_resolver()) if not _exempt(r.route)]
API_ROUTES = [r for r in ALL_ROUTES if r.route.startswith("api/v1/")]
PAGE_ROUTES = [r for r in ALL_ROUTES if not r.route.startswith("api/v1/")]
PAGE_NAMES = sorted({r.name for r in PAGE_ROUTES} | set(EXTRA_PAGES))

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str  # e.g. "/api/v1/attempts/{attempt_id}/"
    query: tuple[str, ...] = ()  # the query parameters it takes

    @property
    def kwargs(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def unsafe(self) -> bool:
        return self.method != "get"


API_OPERATIONS = sorted(
    (
        Operation(
            op["operationId"],
            method,
            path,
            tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "query"),
        )
        for path, item in SCHEMA["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ),
    key=lambda o: o.id,
)
OPERATION_IDS = [o.id for o in API_OPERATIONS]


def _schema_path(route: str) -> str:
    return "/" + KWARG.sub(r"{\1}", route)


# Requests -------------------------------------------------------------------------------------

# Not data: who is signed in where, sign-in throttling, and when a token was last used.
UNWATCHED_TABLES = re.compile(r"^(django_session|axes_)")
TOKEN_TOUCH = re.compile(
    r'^\s*UPDATE\s+"?accounts_apitoken"?\s+SET\s+"?last_used_at"?\s*=\s*\S+\s+WHERE'
)
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


class WriteWatch:
    """Record every statement that changes a row of the app's tables (its table, the rows it
    changed), as the database reports it: cheaper than comparing the tables, and it sees an
    update that leaves a row count as it was."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, int]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        match = WRITE.match(sql)
        if match and not UNWATCHED_TABLES.match(match.group(1)) and not TOKEN_TOUCH.match(sql):
            rows = context["cursor"].rowcount
            # An INSERT ... RETURNING counts its rows only once they are read (SQLite): an
            # insert is a write whatever the count says so far.
            if sql.lstrip()[:6].upper() == "INSERT" or rows != 0:
                self.writes.append((match.group(1), rows))
        return result


@dataclass
class Outcome:
    role: str
    method: str
    url: str
    status: int
    location: str = ""
    body: bytes = b""
    writes: list[tuple[str, int]] = field(default_factory=list)
    error: str = ""

    @property
    def wrote(self) -> bool:
        return bool(self.writes)

    def describe(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        error = f"\n{self.error}" if self.error else ""
        writes = f" wrote {self.writes}" if self.writes else ""
        return (
            f"{self.role}: {self.method.upper()} {self.url} = {self.status}{where}{writes}{error}"
        )


def _body(response: Any) -> bytes:
    # No response.close(): the test client has closed it (or does once the stream is read),
    # and closing it again would close the database connection, test transaction and all.
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _page_client(world: World, role: str) -> Client:
    client = Client()
    if role != ANON:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _api_client(world: World, role: str, token: str | None = None) -> APIClient:
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    elif role != ANON:
        # A fresh instance: a view may change request.user in memory, not only in the database.
        client.force_authenticate(User.objects.get(pk=world.people[role].pk))
    return client


def send(
    client: Client, *, role: str, method: str, url: str, data: Any = None, api: bool = False
) -> Outcome:
    """Send one request in a savepoint that is rolled back, noting what it wrote."""
    outcome = Outcome(role=role, method=method, url=url, status=0)
    watch = WriteWatch()
    with transaction.atomic():
        try:
            kwargs: dict[str, Any] = {}
            if data is not None:
                kwargs["data"] = data
            if api and data is not None and method != "get":
                kwargs["format"] = "json"
            with connection.execute_wrapper(watch):
                response = getattr(client, method)(url, **kwargs)
                outcome.body = _body(response)
        except Exception:  # noqa: BLE001 - a server error is a finding, reported with its trace
            outcome.status = 500
            outcome.error = traceback.format_exc(limit=-6)
        else:
            outcome.status = response.status_code
            outcome.location = response.get("Location", "")
        outcome.writes = watch.writes
        transaction.set_rollback(True)
    return outcome


def _login_path() -> str:
    return reverse(settings.LOGIN_URL) if ":" in settings.LOGIN_URL else settings.LOGIN_URL


def _to_login(outcome: Outcome) -> bool:
    return outcome.status in (301, 302, 303, 307, 308) and urlsplit(
        outcome.location
    ).path.startswith(_login_path())


def allowed(outcome: Outcome) -> bool:
    """Let through: a page or answer, a redirect elsewhere than sign-in, a refusal of the
    object's state (409); for writes, a refusal of the input itself (400, 415) is past the
    permission check too."""
    if outcome.status >= 500 or _to_login(outcome):
        return False
    if 200 <= outcome.status < 400 or outcome.status == 409:
        return True
    return outcome.method != "get" and outcome.status in (400, 415)


def refused(outcome: Outcome, *, api: bool) -> bool:
    """Kept out: sign-in first (pages), 401/403 (API) for anonymous people; 404, 403 or 405
    for signed-in people."""
    if outcome.role == ANON:
        if api:
            return outcome.status in (401, 403, 405)
        return _to_login(outcome) or outcome.status == 405
    return outcome.status in (403, 404, 405)


ANSWER_KEY_FIELDS = {"weight", "feedback", "general_feedback", "is_correct", "correct", "key"}


def _json_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _json_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _json_keys(inner)


def leaks(
    world: World,
    outcome: Outcome,
    *,
    answer_key_free: bool = False,
    shows: frozenset[str] = NOBODY,
) -> list[str]:
    """What the response shows that its receiver may not see."""
    found = []
    text = outcome.body.decode("utf-8", errors="replace")
    for kind, strings in secrets_of(world).items():
        if kind in shows:
            continue
        if outcome.role in SECRETS_ALLOWED[kind] and not (kind == "answer key" and answer_key_free):
            continue
        # The verification link's own id is known to whoever follows it.
        found += [
            f"{outcome.describe()} shows the {kind} {secret!r}"
            for secret in strings
            if secret and secret in text and secret not in outcome.url
        ]
    if answer_key_free and outcome.role == A and outcome.status == 200:
        if "json" in outcome.url or outcome.url.startswith("/api/"):
            keys = set(_json_keys(json.loads(text or "null"))) & ANSWER_KEY_FIELDS
            if keys:
                found.append(f"{outcome.describe()} carries answer-key fields {sorted(keys)}")
        elif "weight" in text.lower():
            found.append(f"{outcome.describe()} mentions choice weights")
    return found


def _url_for_page(world: World, name: str, page: Page) -> str:
    if name in EXTRA_PAGES:
        return EXTRA_PAGES[name]
    route = next(r for r in PAGE_ROUTES if r.name == name)
    kwargs = {
        key: world.named[page.use[key]] if key in page.use else world.ids[key]
        for key in route.kwargs
    }
    return reverse(name, kwargs=kwargs)


def _url_for_operation(world: World, operation: Operation, op: Op) -> str:
    values = {
        key: world.named[op.use[key]] if key in op.use else world.ids[key]
        for key in operation.kwargs
    }
    return operation.path.format(**values)


def _unclassified(kind: str, name: str, table: str) -> str:
    return (
        f"The {kind} {name!r} is not in the access matrix: add it to {table} in "
        f"tests/security/test_access_matrix.py with the roles that may use it."
    )


def _op(operation_id: str) -> Op:
    op = OPERATIONS.get(operation_id)
    assert op is not None, _unclassified("operation", operation_id, "OPERATIONS")
    return op


def _report(problems: list[str]) -> str:
    return "\n".join(["", *problems])


# The tests --------------------------------------------------------------------------------------


def test_the_walk_finds_every_kind_of_route() -> None:
    # given what discovery found
    names = {r.name for r in ALL_ROUTES}
    # then it went through every include, named every route and saw the schema
    assert {"certification:attempt", "certification:jwks", "accounts:login", "api-docs"} <= names
    assert all(r.name for r in ALL_ROUTES), [r.route for r in ALL_ROUTES if not r.name]
    assert len(API_OPERATIONS) > 80
    assert not [r for r in PAGE_ROUTES if r.route.startswith("admin/")]


def test_every_route_is_classified_and_every_entry_is_a_route() -> None:
    unlisted = [_unclassified("page", n, "PAGES") for n in PAGE_NAMES if n not in PAGES]
    unlisted += [
        _unclassified("operation", i, "OPERATIONS") for i in OPERATION_IDS if i not in OPERATIONS
    ]
    stale = [f"PAGES lists {n!r}, which is no route" for n in PAGES if n not in PAGE_NAMES]
    stale += [
        f"OPERATIONS lists {i!r}, which is no operation"
        for i in OPERATIONS
        if i not in OPERATION_IDS
    ]
    assert not unlisted + stale, _report(unlisted + stale)


def test_every_api_view_method_is_in_the_schema() -> None:
    """An operation left out of the schema would escape the matrix: none is."""
    in_schema = {(o.path, o.method) for o in API_OPERATIONS}
    missing = []
    for route in API_ROUTES:
        view = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
        assert view is not None, f"{route.name} is not a class-based API view"
        path = _schema_path(route.route)
        missing += [
            f"{method.upper()} {path} ({route.name})"
            for method in HTTP_METHODS
            if hasattr(view, method) and (path, method) not in in_schema
        ]
    assert not missing, _report(missing)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_get(matrix_world: World, name: str) -> None:
    """Each role GETs the page: the allowed roles get it, the others are refused, and no
    response shows a planted string to a role that may not see it."""
    page = PAGES.get(name)
    assert page is not None, _unclassified("page", name, "PAGES")
    url = _url_for_page(matrix_world, name, page)
    problems = []
    for role in ROLES:
        outcome = send(_page_client(matrix_world, role), role=role, method="get", url=url)
        if role in page.get:
            if not allowed(outcome):
                problems.append(f"should be allowed: {outcome.describe()}")
        elif not refused(outcome, api=page.api_like):
            problems.append(f"should be refused: {outcome.describe()}")
        problems += leaks(
            matrix_world, outcome, answer_key_free=page.answer_key_free, shows=page.shows
        )
    assert not problems, _report(problems)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_post(matrix_world: World, name: str) -> None:
    """Each role POSTs to the page: only the allowed roles get past the permission check; for
    everyone else (and everyone, on a page without an action) nothing is written."""
    page = PAGES.get(name)
    assert page is not None, _unclassified("page", name, "PAGES")
    url = _url_for_page(matrix_world, name, page)
    data = page.data(matrix_world) if page.data else {}
    problems = []
    for role in ROLES:
        may_post = page.post is not None and role in page.post
        outcome = send(
            _page_client(matrix_world, role),
            role=role,
            method="post",
            url=url,
            data=data,
        )
        if may_post:
            if not (allowed(outcome) or (page.lands_on_login and _to_login(outcome))):
                problems.append(f"should be allowed: {outcome.describe()}")
            elif page.writes and not outcome.wrote:
                problems.append(f"should have written: {outcome.describe()}")
        else:
            if role not in page.get and not refused(outcome, api=page.api_like):
                problems.append(f"should be refused: {outcome.describe()}")
            if outcome.status >= 500:
                problems.append(f"server error: {outcome.describe()}")
            if outcome.wrote:
                problems.append(f"wrote to the database: {outcome.describe()}")
        problems += leaks(
            matrix_world, outcome, answer_key_free=page.answer_key_free, shows=page.shows
        )
    assert not problems, _report(problems)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_api(matrix_world: World, operation_id: str) -> None:
    """Each role calls the operation: the allowed roles get through, the others are refused
    (anonymous: 401/403; signed in: 404/403) and, for a write, nothing is written."""
    op = _op(operation_id)
    operation = next(o for o in API_OPERATIONS if o.id == operation_id)
    url = _url_for_operation(matrix_world, operation, op)
    if op.query is not None:
        url += "?" + "&".join(f"{k}={v}" for k, v in op.query(matrix_world).items())
    data = op.data(matrix_world) if op.data else ({} if operation.unsafe else None)
    problems = []
    for role in ROLES:
        outcome = send(
            _api_client(matrix_world, role),
            role=role,
            method=operation.method,
            url=url,
            data=data,
            api=True,
        )
        if role in op.allowed:
            if not allowed(outcome):
                problems.append(f"should be allowed: {outcome.describe()}")
            elif op.writes and not outcome.wrote:
                problems.append(f"should have written: {outcome.describe()}")
        else:
            if not refused(outcome, api=True):
                problems.append(f"should be refused: {outcome.describe()}")
            if outcome.wrote:
                problems.append(f"wrote to the database: {outcome.describe()}")
        problems += leaks(matrix_world, outcome, answer_key_free=op.answer_key_free)
    assert not problems, _report(problems)


# The planted strings are there to find ----------------------------------------------------------

# (role, page, URL keywords from World.named, kind of planted string the page must show)
SHOWN_TO_THOSE_ALLOWED = [
    (EN, "certification:manage_question", {}, "answer key"),
    (A, "certification:attempt_result", {"attempt_id": "finished_attempt"}, "answer key"),
    (JON, "certification:session", {}, "judge notes"),
    (JON, "certification:session", {}, "buyer brief"),
    (RP, "certification:session", {}, "buyer brief"),
    (A, "certification:session", {}, "panel feedback"),
    (JON, "certification:session_score", {"session_id": "scheduled_session"}, "draft scores"),
    (
        EN,
        "certification:session",
        {"session_id": "scheduled_session"},
        "submitted scores before release",
    ),
    (A, "certification:signoff", {}, "sign-off comment"),
    (A, "certification:my_tier", {}, "tier reason"),
    (MA, "certification:manage_rep_tier", {}, "tier reason"),
    (TP, "certification:tp_period", {}, "support purpose"),
    (A, "certification:my_certifications", {}, "certification id"),
    (MA, "certification:team_readiness", {}, "identity"),
]


@pytest.mark.parametrize(("role", "name", "use", "kind"), SHOWN_TO_THOSE_ALLOWED)
def test_the_planted_strings_reach_those_allowed(
    matrix_world: World, role: str, name: str, use: dict[str, str], kind: str
) -> None:
    """The strings the matrix looks for are really in the world and on the pages of those
    allowed to see them: their absence elsewhere means something."""
    page = Page(get=only(role), use=use)
    outcome = send(
        _page_client(matrix_world, role),
        role=role,
        method="get",
        url=_url_for_page(matrix_world, name, page),
    )
    text = outcome.body.decode("utf-8", errors="replace")
    assert outcome.status == 200, outcome.describe()
    assert any(secret in text for secret in secrets_of(matrix_world)[kind]), outcome.describe()


# API tokens ---------------------------------------------------------------------------------------

UNSAFE_OPERATIONS = [o.id for o in API_OPERATIONS if o.unsafe and o.id != "auth_token_create"]
SUPPORT_OPERATIONS = {"support_entitlements_retrieve", "support_usage_create"}


def _token_call(world: World, operation: Operation, token: str) -> Outcome:
    op = _op(operation.id)
    url = _url_for_operation(world, operation, op)
    if op.query is not None:
        url += "?" + "&".join(f"{k}={v}" for k, v in op.query(world).items())
    data = op.data(world) if op.data else ({} if operation.unsafe else None)
    return send(
        _api_client(world, A, token=token),
        role=A,
        method=operation.method,
        url=url,
        data=data,
        api=True,
    )


@pytest.mark.parametrize("operation_id", UNSAFE_OPERATIONS)
def test_a_read_only_token_cannot_write(matrix_world: World, operation_id: str) -> None:
    """Rep A's read-only token is refused (403) on every write, A's own included, and writes
    nothing; a token with the write scope gets through where A may write."""
    operation = next(o for o in API_OPERATIONS if o.id == operation_id)
    outcome = _token_call(matrix_world, operation, matrix_world.tokens["read"])
    assert outcome.status == 403, outcome.describe()
    assert not outcome.wrote, outcome.describe()
    if A in _op(operation_id).allowed:
        written = _token_call(matrix_world, operation, matrix_world.tokens["write"])
        assert allowed(written), written.describe()


@pytest.mark.parametrize("operation_id", [i for i in OPERATION_IDS if i != "auth_token_create"])
def test_token_scopes_on_every_operation(matrix_world: World, operation_id: str) -> None:
    """Where rep A may read, A's read token reads; a support-only token (a dialer's) reaches the
    support endpoints and who-am-I, nothing else; a revoked token reaches nothing. (Signing in for a
    token, auth_token_create, takes a password, not a token.)"""
    operation = next(o for o in API_OPERATIONS if o.id == operation_id)
    op = _op(operation_id)
    problems = []
    # The support endpoints take the support scope instead of read / write.
    if not operation.unsafe and A in op.allowed and operation_id not in SUPPORT_OPERATIONS:
        outcome = _token_call(matrix_world, operation, matrix_world.tokens["read"])
        if outcome.status != 200:
            problems.append(f"the read token should read: {outcome.describe()}")
    support = _token_call(matrix_world, operation, matrix_world.tokens["support"])
    if operation_id in SUPPORT_OPERATIONS or operation_id == "me_retrieve":
        if support.status == 403:
            problems.append(f"the support token should reach support: {support.describe()}")
    elif support.status != 403 or support.wrote:
        problems.append(f"the support token should be refused (403): {support.describe()}")
    revoked = _token_call(matrix_world, operation, matrix_world.tokens["revoked"])
    if revoked.status != 401 or revoked.wrote:
        problems.append(f"the revoked token should be refused (401): {revoked.describe()}")
    assert not problems, _report(problems)


def test_a_token_does_not_sign_in_to_pages(matrix_world: World) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Token {matrix_world.tokens['read,write']}")
    outcome = send(client, role=ANON, method="get", url=reverse("certification:my_tests"))
    assert _to_login(outcome), outcome.describe()


def test_an_expired_token_is_refused(matrix_world: World) -> None:
    from accounts.models import ApiToken

    ApiToken.objects.filter(name="A read").update(expires_at=timezone.now() - timedelta(minutes=1))
    client = _api_client(matrix_world, A, token=matrix_world.tokens["read"])
    outcome = send(client, role=A, method="get", url=reverse("api-v1:me"), api=True)
    assert outcome.status == 401, outcome.describe()


# Filters aimed at rep A ---------------------------------------------------------------------------

# Query parameters that point a list or a report at rep A: A's team, region, manager, name, email.
AIMED_AT_A: dict[str, Callable[[World], Any]] = {
    "team": lambda w: w.org.alpha.pk,
    "region": lambda w: w.org.north.pk,
    "manager": lambda w: w.org.manager_a.pk,
    "q": lambda _w: A_NAME,
    "rep": lambda _w: A_EMAIL,
}
# Pages that filter what they list by those parameters.
FILTERED_PAGES = [
    "certification:report_readiness",
    "certification:report_matrix",
    "certification:report_gaps",
    "certification:report_trends",
    "certification:report_requirements",
    "certification:team_readiness",
    "certification:team_tiers",
    "certification:report_exports",
    "accounts:people",
]
# Who must learn nothing of A whatever they ask for.
OUTSIDERS = (B, MO, JOFF, TP, AD)
AIMED = [
    *(
        f"api {o.id}"
        for o in API_OPERATIONS
        if o.method == "get" and set(o.query) & AIMED_AT_A.keys()
    ),
    *(f"page {name}" for name in FILTERED_PAGES),
]


@pytest.mark.parametrize("target", AIMED)
def test_filters_aimed_at_a_show_outsiders_nothing_of_a(matrix_world: World, target: str) -> None:
    """Asking a list or report for A's team, region, manager, name or email shows someone
    outside A's circle nothing of A: the filter narrows what they may see, never widens it."""
    kind, name = target.split(" ", 1)
    if kind == "api":
        operation = next(o for o in API_OPERATIONS if o.id == name)
        base = _url_for_operation(matrix_world, operation, _op(name))
        params = [p for p in operation.query if p in AIMED_AT_A]
    else:
        base = _url_for_page(matrix_world, name, PAGES[name])
        params = list(AIMED_AT_A)
    problems = []
    for role in OUTSIDERS:
        for param in params:
            client = (
                _api_client(matrix_world, role)
                if kind == "api"
                else _page_client(matrix_world, role)
            )
            outcome = send(
                client,
                role=role,
                method="get",
                url=f"{base}?{param}={AIMED_AT_A[param](matrix_world)}",
                api=kind == "api",
            )
            if outcome.status >= 500:
                problems.append(f"server error: {outcome.describe()}")
            problems += leaks(matrix_world, outcome)
    assert not problems, _report(problems)


def test_an_export_aimed_at_a_shows_another_manager_nothing_of_a(matrix_world: World) -> None:
    """A small export is the table itself, in the response: another team's manager asking for
    A's team gets none of A's rows."""
    problems = []
    for role in (MO, MA):
        for param in ("team", "region", "manager", "q"):
            outcome = send(
                _page_client(matrix_world, role),
                role=role,
                method="post",
                url=reverse("certification:report_export"),
                data={"table": "matrix", "format": "csv", param: AIMED_AT_A[param](matrix_world)},
            )
            shown = A_NAME in outcome.body.decode("utf-8", errors="replace")
            if role == MO and shown:
                problems.append(f"shows A: {outcome.describe()}")
            if role == MA and param == "team" and not shown:
                problems.append(f"A's manager should get A's row: {outcome.describe()}")
    assert not problems, _report(problems)


# Refusals tell nothing --------------------------------------------------------------------------

NONCE = re.compile(rb'nonce="[^"]*"|name="csrfmiddlewaretoken" value="[^"]*"')
MISSING = 2**31 - 7  # no object has this id


def _refusal(outcome: Outcome) -> tuple[int, bytes]:
    return outcome.status, NONCE.sub(b"", outcome.body)


def _with_missing_ids(world: World, use: dict[str, str], keys: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in keys:
        value = world.named[use[key]] if key in use else world.ids[key]
        values[key] = MISSING if isinstance(value, int) else value
    return values


OBJECT_OPERATIONS = [o.id for o in API_OPERATIONS if any(k.endswith("_id") for k in o.kwargs)]
OBJECT_PAGES = [
    r.name for r in PAGE_ROUTES if any(k.endswith("_id") for k in r.kwargs) and r.name in PAGES
]


@pytest.mark.parametrize(
    "target", [*(f"api {i}" for i in OBJECT_OPERATIONS), *(f"page {n}" for n in OBJECT_PAGES)]
)
def test_a_refusal_does_not_tell_whether_the_object_exists(
    matrix_world: World, target: str
) -> None:
    """Refused on rep A's object, another rep or another team's manager gets exactly what they
    get for an id that exists nowhere: the same status and the same body. (Those who may see
    the object but not act on it may be told why.)"""
    kind, name = target.split(" ", 1)
    problems = []
    if kind == "api":
        operation = next(o for o in API_OPERATIONS if o.id == name)
        op = _op(name)
        allowed_roles, method = op.allowed, operation.method
        real = _url_for_operation(matrix_world, operation, op)
        missing = operation.path.format(**_with_missing_ids(matrix_world, op.use, operation.kwargs))
        data = op.data(matrix_world) if op.data else ({} if operation.unsafe else None)
    else:
        page = PAGES[name]
        route = next(r for r in PAGE_ROUTES if r.name == name)
        allowed_roles = page.get | (page.post or NOBODY)
        method = "get" if page.get else "post"
        real = _url_for_page(matrix_world, name, page)
        missing = reverse(name, kwargs=_with_missing_ids(matrix_world, page.use, route.kwargs))
        data = page.data(matrix_world) if page.data and method == "post" else None
    for role in [r for r in (B, MO) if r not in allowed_roles]:  # another rep, another manager
        answers = []
        for url in (real, missing):
            client = (
                _api_client(matrix_world, role)
                if kind == "api"
                else _page_client(matrix_world, role)
            )
            answers.append(
                send(client, role=role, method=method, url=url, data=data, api=kind == "api")
            )
        if _refusal(answers[0]) != _refusal(answers[1]):
            problems.append(
                f"{answers[0].describe()} {answers[0].body[:200]!r}\n"
                f"  differs from {answers[1].describe()} {answers[1].body[:200]!r}"
            )
    assert not problems, _report(problems)
