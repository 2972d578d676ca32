"""Build the bench's database: a fresh PostgreSQL database, migrated, with one organisation.

    .venv/bin/python bench/setup_data.py --reps 200 --out /tmp/bench-data.json

Drops and recreates the database named by ``--database`` (``repready_bench``) on
127.0.0.1:5432 as ``postgres`` (trust auth), migrates it with ``bench.settings``, then creates:
a region with one team of ``--reps`` reps (bulk insert), an enablement lead, a subject, a bank
of ``--questions`` single-choice questions, a published test drawing ``--draw`` of them (a
ten-hour limit, unlimited attempts, no cooldown) assigned to the team, and one read-write API
token per rep. Writes go through the project's services except the reps themselves, which are
bulk-inserted (the service audits each one; the bench needs none of that).

Writes a JSON file for the load drivers: the test's id, each rep's token, and for every question
one wrong choice and the right one. The level-1 bench answers wrong so that it never passes (a
pass issues a certification, after which the rep may not start that test again); the exam
burst answers as a boot camp would, mostly right.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_HOST, PG_PORT = "127.0.0.1", 5432


def recreate_database(name: str) -> None:
    """Drop (closing its sessions) and create the database."""
    import psycopg  # noqa: PLC0415 - imported where it is used
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(database: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE"] = database
    os.environ["DATABASE_URL"] = f"postgres://postgres@{PG_HOST}:{PG_PORT}/{database}"
    import django  # noqa: PLC0415

    django.setup()


def build(*, reps: int, questions: int, draw: int) -> dict[str, Any]:
    """Create the organisation, the bank, the test and the tokens; return the driver's data."""
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415

    from accounts.models import Team, User  # noqa: PLC0415
    from accounts.services import api_token_create, team_create, user_create  # noqa: PLC0415
    from certification.models import Choice, Subject  # noqa: PLC0415
    from certification.services.catalog import subject_create  # noqa: PLC0415
    from certification.services.exams import (  # noqa: PLC0415
        SectionInput,
        exam_assign,
        exam_create,
        exam_publish,
        exam_set_sections,
    )
    from certification.services.questions import (  # noqa: PLC0415
        ChoiceInput,
        QuestionInput,
        bank_create,
        question_create,
    )

    with transaction.atomic():
        lead = user_create(
            email="enablement@bench.test", display_name="Bench Enablement", roles=["enablement"]
        )
        region = team_create(name="Bench Region", kind=Team.Kind.REGION, actor=lead)
        team = team_create(name="Bench Team", parent=region, actor=lead)
        unusable = make_password(None)
        User.objects.bulk_create(
            User(
                email=f"rep{i:06d}@bench.test",
                display_name=f"Bench Rep {i}",
                team=team,
                is_rep=True,
                password=unusable,
            )
            for i in range(reps)
        )
        subject = subject_create(
            name="Bench Offering",
            kind=Subject.Kind.OFFERING,
            current_version="1.0",
            actor=lead,
        )
        bank = bank_create(name="Bench Bank", subject=subject, actor=lead)
        for n in range(questions):
            question_create(
                bank=bank,
                data=QuestionInput(
                    kind="single",
                    title=f"Bench question {n}",
                    text=f"<p>Bench question {n}: which option is right?</p>",
                    choices=[
                        ChoiceInput(text=name, weight=Decimal(weight), feedback=f"Feedback {name}")
                        for name, weight in zip("ABCD", (100, 0, 0, 0), strict=True)
                    ],
                    general_feedback=f"General feedback {n}",
                ),
                actor=lead,
            )
        exam = exam_create(
            subject=subject,
            actor=lead,
            title="Bench Offering essentials",
            pass_mark=Decimal(60),
            time_limit_minutes=600,  # the model's maximum; far longer than any run
            max_attempts=None,
            cooldown_minutes=0,
        )
        exam_set_sections(exam=exam, sections=[SectionInput(bank, draw)], actor=lead)
        exam_publish(exam=exam, actor=lead)
        exam_assign(exam=exam, teams=[team], actor=lead)

    wrong = dict(
        Choice.objects.filter(question__bank=bank, weight=0)
        .order_by("question_id", "-position")
        .values_list("question_id", "pk")
    )  # the last zero-weight choice of each question wins: any wrong one will do
    right = dict(
        Choice.objects.filter(question__bank=bank, weight=100).values_list("question_id", "pk")
    )
    tokens = []
    with transaction.atomic():
        for rep in User.objects.filter(team=team, is_rep=True).order_by("email"):
            _, raw = api_token_create(user=rep, name="bench", scopes=["read", "write"])
            tokens.append(raw)
    return {
        "exam_id": exam.pk,
        "draw": draw,
        "tokens": tokens,
        "wrong_choice": {str(q): c for q, c in wrong.items()},
        "right_choice": {str(q): c for q, c in right.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database", default="repready_bench")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--draw", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the load driver")
    args = parser.parse_args(argv)
    if args.draw > args.questions:
        parser.error("--draw cannot exceed --questions")

    started = time.monotonic()
    recreate_database(args.database)
    django_setup(args.database)
    from django.core.management import call_command  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.monotonic()
    data = build(reps=args.reps, questions=args.questions, draw=args.draw)
    data["database"] = args.database
    args.out.write_text(json.dumps(data))
    print(
        f"setup: database {args.database} migrated in {migrated - started:.1f}s; "
        f"{args.reps} reps, {args.questions} questions, test {data['exam_id']} drawing "
        f"{args.draw}, tokens in {time.monotonic() - migrated:.1f}s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
