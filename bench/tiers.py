"""Tier bench: recompute every tier of a 10,000-rep organisation, and import a 100,000-row deals
file, on PostgreSQL, in this one process (what one Celery worker process does).

    .venv/bin/python bench/tiers.py [--reps 10000] [--deals 100000] [--database NAME]

Drops and recreates the database, migrates it, then bulk-inserts the organisation: ``--reps``
reps, three offerings and the executive-presentation skill, certifications with their evidence
(level 1 on the offerings for most reps, level 2 for some, level 3 for a few) and about five
won, lost or open deals per rep over the last year. Then it times:

- ``recompute``: ``tiers_recompute`` over every rep, from no tier at all (every rep's row and
  first change are written). Target: under 60 s.
- ``recompute again``: the same with nothing changed (the nightly case).
- ``import``: a CSV of ``--deals`` rows through ``deals_import_file`` (parse, validate, upsert),
  the path the upload page, ``import_deals`` and the API share. Target: under 60 s.
- ``re-import``: the same file again (every row unchanged).

Prints a table and writes ``bench/results/tiers-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup_data import django_setup, recreate_database

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60.0


def build(reps: int) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from accounts.models import Team, User  # noqa: PLC0415
    from accounts.services import team_create, user_create  # noqa: PLC0415
    from certification.models import (  # noqa: PLC0415
        AssessmentSession,
        Attempt,
        Certification,
        Deal,
        FieldObservation,
        SignOff,
        Subject,
    )
    from certification.services.assessments import scenario_create  # noqa: PLC0415
    from certification.services.catalog import subject_create  # noqa: PLC0415
    from certification.services.exams import exam_create  # noqa: PLC0415
    from certification.services.guides import (  # noqa: PLC0415
        CriterionInput,
        GuideContent,
        guide_create,
    )
    from certification.services.tiers import tier_rule  # noqa: PLC0415

    now = timezone.now()
    rng = random.Random(7)
    with transaction.atomic():
        lead = user_create(email="lead@tiers.test", display_name="Lead", roles=["enablement"])
        region = team_create(name="Region", kind=Team.Kind.REGION, actor=lead)
        team = team_create(name="Team", parent=region, actor=lead)
        unusable = make_password(None)
        User.objects.bulk_create(
            (
                User(
                    email=f"rep{i:06d}@tiers.test",
                    display_name=f"Rep {i}",
                    team=team,
                    is_rep=True,
                    password=unusable,
                )
                for i in range(reps)
            ),
            batch_size=2000,
        )
        offerings = [
            subject_create(name=f"Offering {n}", kind=Subject.Kind.OFFERING, actor=lead)
            for n in "ABC"
        ]
        executive = subject_create(
            name="Presenting to a senior executive", kind=Subject.Kind.SKILL, actor=lead
        )
        exams = {
            s.pk: exam_create(subject=s, actor=lead, title=f"{s.name} test") for s in offerings
        }
        content = GuideContent(
            criteria=[
                CriterionInput(
                    title="Opening",
                    rep_description="Opens the call well.",
                    descriptors={1: "Poor", 2: "Weak", 3: "Good", 4: "Strong"},
                )
            ]
        )
        guide = guide_create(name="Guide", content=content, actor=lead)
        version = guide.versions.get()
        scenario = scenario_create(
            subject=offerings[0],
            guide=guide,
            actor=lead,
            title="Call",
            rep_brief="Open the call.",
            buyer_brief="Secret.",
            min_judges=1,
        )
        rule = tier_rule()
        rule.silver_level2_subjects.set([offerings[0]])
        rule.gold_level3_subject = executive
        rule.gold_revenue_threshold = Decimal(200000)
        rule.save()

        rep_ids = list(User.objects.filter(is_rep=True).order_by("pk").values_list("pk", flat=True))
        bronze = [pk for pk in rep_ids if rng.random() < 0.8]
        silver = [pk for pk in bronze if rng.random() < 0.5]
        gold = [pk for pk in silver if rng.random() < 0.4]
        attempts = [
            Attempt(
                exam=exams[s.pk],
                rep_id=pk,
                number=1,
                status="finished",
                started_at=now,
                deadline=now,
                finished_at=now,
                score=Decimal(90),
                passed=True,
            )
            for pk in bronze
            for s in offerings
        ]
        Attempt.objects.bulk_create(attempts, batch_size=5000)
        sessions = AssessmentSession.objects.bulk_create(
            (
                AssessmentSession(
                    scenario=scenario,
                    rep_id=pk,
                    guide_version=version,
                    scheduled_at=now,
                    owner=lead,
                    status="released",
                    score=Decimal(80),
                    passed=True,
                    released_at=now,
                )
                for pk in silver
            ),
            batch_size=5000,
        )
        observations = FieldObservation.objects.bulk_create(
            (
                FieldObservation(
                    rep_id=pk,
                    observer=lead,
                    subject=executive,
                    guide_version=version,
                    observed_on=now.date(),
                    kind="meeting",
                    crm_reference="OPP",
                    contact_title="CFO",
                    status="signed",
                )
                for pk in gold
            ),
            batch_size=5000,
        )
        signoffs = SignOff.objects.bulk_create(
            (
                SignOff(
                    observation=o,
                    rep_id=o.rep_id,
                    subject=executive,
                    guide_version=version,
                    signed_by=lead,
                    signed_at=now,
                    ratings=[],
                    score=Decimal(90),
                    passed=True,
                )
                for o in observations
            ),
            batch_size=5000,
        )
        certifications = [
            Certification(
                rep_id=a.rep_id, subject_id=a.exam.subject_id, level=1, issued_at=now, attempt=a
            )
            for a in attempts
        ]
        certifications += [
            Certification(rep_id=s.rep_id, subject=offerings[0], level=2, issued_at=now, session=s)
            for s in sessions
        ]
        certifications += [
            Certification(rep_id=s.rep_id, subject=executive, level=3, issued_at=now, signoff=s)
            for s in signoffs
        ]
        Certification.objects.bulk_create(certifications, batch_size=5000)
        today = now.date()
        deals = []
        for pk in rep_ids:
            for n in range(rng.randint(0, 10)):
                stage = rng.choice(["won", "won", "lost", "open"])
                amount = Decimal(rng.randint(5, 120) * 1000)
                deals.append(
                    Deal(
                        opportunity_id=f"SEED-{pk}-{n}",
                        rep_id=pk,
                        amount=amount,
                        amount_base=amount,
                        currency="USD",
                        close_date=today - timedelta(days=rng.randint(0, 400)),
                        stage=stage,
                    )
                )
        Deal.objects.bulk_create(deals, batch_size=5000)
    return {
        "reps": len(rep_ids),
        "certifications": len(certifications),
        "seeded_deals": len(deals),
        "rep_ids": rep_ids,
    }


def deals_csv(rows: int, reps: int, path: Path) -> None:
    rng = random.Random(11)
    today = datetime.now(UTC).date()
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("opportunity_id,rep_email,amount,currency,close_date,stage\r\n")
        for n in range(rows):
            stage = rng.choice(["Closed Won", "Closed Won", "Closed Lost", "Open"])
            close = today - timedelta(days=rng.randint(0, 400))
            out.write(
                f"OPP-{n:07d},rep{rng.randrange(reps):06d}@tiers.test,{rng.randint(1, 200) * 500},"
                f"USD,{close.isoformat()},{stage}\r\n"
            )


def timed(label: str, func: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--database", default="repready_bench_tiers")
    args = parser.parse_args(argv)

    recreate_database(args.database)
    django_setup(args.database)
    from django.core.management import call_command  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    print(f"tiers bench: {args.reps:,} reps, a {args.deals:,}-row deals file", flush=True)
    build_seconds, built = timed("build the organisation", lambda: build(args.reps))

    from certification.models import Deal, RepTier, TierChange  # noqa: PLC0415
    from certification.services.deals import deals_import_file  # noqa: PLC0415
    from certification.services.tiers import tiers_recompute  # noqa: PLC0415

    ids = built["rep_ids"]
    first, changed = timed("recompute", lambda: tiers_recompute(rep_ids=ids, cause="bench"))
    again, unchanged = timed(
        "recompute again", lambda: tiers_recompute(rep_ids=ids, cause="bench again")
    )
    tiers = {
        tier: RepTier.objects.filter(tier=tier).count()
        for tier in ("none", "bronze", "silver", "gold")
    }
    csv_path = Path(f"/tmp/repready-bench-deals-{args.deals}.csv")  # noqa: S108 - a bench scratch file
    deals_csv(args.deals, args.reps, csv_path)
    data = csv_path.read_bytes()
    imported, result = timed(
        "import", lambda: deals_import_file(data=data, dry_run=False, actor=None)
    )
    reimported, again_result = timed(
        "re-import", lambda: deals_import_file(data=data, dry_run=False, actor=None)
    )
    csv_path.unlink()

    rows = [
        ("recompute", len(ids), first, f"{changed:,} changes", first < TARGET_SECONDS),
        ("recompute again", len(ids), again, f"{unchanged:,} changes", again < TARGET_SECONDS),
        (
            "import",
            args.deals,
            imported,
            (
                f"{result.created:,} created, {result.updated:,} updated, "
                f"{len(result.rejected)} rejected"
            ),
            imported < TARGET_SECONDS,
        ),
        (
            "re-import",
            args.deals,
            reimported,
            f"{again_result.created:,} created, {again_result.updated:,} updated",
            reimported < TARGET_SECONDS,
        ),
    ]
    print()
    print(f"{'step':<16} {'rows':>8} {'seconds':>8} {'per 1,000':>10}  {'result':<40} target <60 s")
    for step, count, seconds, note, ok in rows:
        print(
            f"{step:<16} {count:>8,} {seconds:>8.1f} {seconds / count * 1000:>9.2f}s  "
            f"{note:<40} {'PASS' if ok else 'FAIL'}"
        )
    print(
        f"\ntiers after recompute: {tiers}; tier changes stored: "
        f"{TierChange.objects.count():,}; deals: {Deal.objects.count():,}"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "reps": len(ids),
        "certifications": built["certifications"],
        "build_seconds": round(build_seconds, 1),
        "tiers": tiers,
        "steps": [
            {"step": s, "rows": c, "seconds": round(t, 2), "result": n, "ok": ok}
            for s, c, t, n, ok in rows
        ],
    }
    (RESULTS / f"tiers-{stamp}.json").write_text(json.dumps(payload, indent=2))
    print(f"results: bench/results/tiers-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
