"""Object-level permission predicates for certification, shared by pages and the API."""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import Q
from django.utils import timezone

from accounts.rules import (
    can_view_rep_records,
    is_active_rep,
    is_enablement,
    is_manager_of,
    is_rep,
    is_self,
    is_teleprospecting_lead,
)
from accounts.selectors import team_and_ancestor_paths
from certification.models import Attempt, ObserverDelegation

# Enablement authors subjects, banks, questions and tests, assigns them and reads results.
can_author = is_enablement
can_take_tests = is_rep
# Enablement imports the CRM's deals, keeps the exchange rates and exports the deals.
can_manage_deals = is_enablement
# Enablement sets validity periods, publishes offering versions and revokes certifications.
can_manage_certifications = is_enablement


@rules.predicate
def owns_attempt(user: Any, attempt: Attempt | None) -> bool:
    """The attempt is the user's own."""
    return attempt is not None and user.is_authenticated and attempt.rep_id == user.pk


@rules.predicate
def may_see_attempt_result(user: Any, attempt: Attempt | None) -> bool:
    """The user may read this attempt's result: the rep, their managers, enablement."""
    return attempt is not None and (
        owns_attempt(user, attempt) or can_view_rep_records(user, attempt.rep)
    )


# Levels 2 and 3 --------------------------------------------------------------------------------


@rules.predicate
def is_session_rep(user: Any, session: Any) -> bool:
    """The user is the rep being assessed."""
    return session is not None and user.is_authenticated and session.rep_id == user.pk


@rules.predicate
def is_on_panel(user: Any, session: Any) -> bool:
    """The user is a judge on the session's panel."""
    if session is None or not user.is_authenticated:
        return False
    return any(member.judge_id == user.pk for member in session.panel.all())


@rules.predicate
def is_role_player(user: Any, session: Any) -> bool:
    """The user plays the buyer in the session."""
    return session is not None and user.is_authenticated and session.role_player_id == user.pk


@rules.predicate
def is_session_owner(user: Any, session: Any) -> bool:
    """The user reviews and releases the session's result."""
    return session is not None and user.is_authenticated and session.owner_id == user.pk


@rules.predicate
def manages_session_rep(user: Any, session: Any) -> bool:
    """The user manages the rep being assessed."""
    return session is not None and is_manager_of(user, session.rep)


# Never the rep: not even a rep who is also enablement or sits on other panels.
can_see_buyer_brief = ~is_session_rep & (
    is_on_panel | is_role_player | is_session_owner | is_enablement
)
can_see_judge_notes = ~is_session_rep & (is_on_panel | is_session_owner | is_enablement)
can_score_session = is_on_panel & ~is_session_rep
can_release_session = ~is_session_rep & (is_session_owner | is_enablement)
can_view_session = (
    is_session_rep
    | is_on_panel
    | is_role_player
    | is_session_owner
    | is_enablement
    | manages_session_rep
)
# The released result (score, outcome, feedback): the rep, the panel, the owner, enablement and
# the rep's managers; never the role-player, who may be another rep.
can_see_session_result = (
    is_session_rep | is_on_panel | is_session_owner | is_enablement | manages_session_rep
)
can_manage_assessments = is_enablement


@rules.predicate
def has_observer_delegation(user: Any, rep: Any) -> bool:
    """Enablement has named the user to observe this rep (or the rep's team), still valid."""
    if rep is None or not user.is_authenticated or not user.is_active:
        return False
    return ObserverDelegation.objects.filter(
        Q(rep=rep) | Q(team__path__in=team_and_ancestor_paths(rep.team)),
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        delegate=user,
    ).exists()


@rules.predicate
def is_other_person(user: Any, rep: Any) -> bool:
    return rep is not None and user.is_authenticated and rep.pk != user.pk


# Who may observe a rep in the field and sign off level 3: their manager or a named delegate.
can_observe = is_other_person & is_active_rep & (is_manager_of | has_observer_delegation)


@rules.predicate
def is_signer(user: Any, signoff: Any) -> bool:
    """The user signed this sign-off."""
    return signoff is not None and user.is_authenticated and signoff.signed_by_id == user.pk


@rules.predicate
def may_see_signed_rep(user: Any, signoff: Any) -> bool:
    """The user may read the signed rep's records (the rep, their managers, enablement)."""
    return signoff is not None and can_view_rep_records(user, signoff.rep)


@rules.predicate
def may_still_observe_signed_rep(user: Any, signoff: Any) -> bool:
    """The user may still observe the signed rep (their manager or a valid delegate)."""
    return signoff is not None and can_observe(user, signoff.rep)


@rules.predicate
def is_signed_rep(user: Any, signoff: Any) -> bool:
    """The user is the rep the sign-off is about."""
    return signoff is not None and user.is_authenticated and signoff.rep_id == user.pk


can_view_signoff = is_signer | may_see_signed_rep
# The signer corrects or revokes only while they may still observe the rep; enablement always;
# never the rep themself, whatever other role they hold.
can_amend_signoff = ~is_signed_rep & ((is_signer & may_still_observe_signed_rep) | is_enablement)


# Teleprospecting support ------------------------------------------------------------------------

# Reps ask for support on /support/; the teleprospecting lead runs it on /teleprospecting/.
can_request_support = is_rep
can_lead_teleprospecting = is_teleprospecting_lead
# Whose support entitlement a person may read: their own, their teams' reps, anyone's for
# enablement and the teleprospecting lead (see selectors.support.support_reps_visible_to).
can_view_support_of = is_active_rep & (
    is_self | is_manager_of | is_enablement | is_teleprospecting_lead
)
