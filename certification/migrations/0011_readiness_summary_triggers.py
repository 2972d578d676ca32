"""Triggers that keep the readiness summaries honest, on PostgreSQL and SQLite alike.

``ReadinessSummary`` rows summarise what the readiness headline counts of a rep. Whatever changes
what a row is derived from bumps its ``version`` and clears ``current`` in the same
transaction, whoever makes the change (a service, a bulk update, the admin, a shell): readers
count a rep whose row is not current live instead. Changes that can move every rep
(a readiness requirement, one of its items, a team's path) bump the single
``ReadinessGeneration`` row instead. See ``certification/services/readiness_summaries.py``.

The rep's row is upserted (created stale when missing) rather than only updated, so that a
refresh racing with the first change of a rep it has never summarised cannot miss it: the
two inserts meet on the primary key and the second waits for the first.

On PostgreSQL the triggers are per statement, over its transition tables: one upsert of the
statement's reps, in rep order, so two bulk writes (the expiry sweep, an offering release)
that touch the same reps lock their summary rows in the same order and cannot deadlock on
them. SQLite has one writer at a time and row triggers only.

A later migration that rebuilds one of these tables on SQLite (Django remakes a table to alter
it there) drops its triggers: ``tests/certification/services/test_readiness_summaries.py``
checks that every trigger exists after all migrations.
"""

from django.db import migrations

SUMMARY = "certification_readinesssummary"
GENERATION = "certification_readinessgeneration"

# (table, the rep's column, the columns whose change matters)
REP_SOURCES = (
    (
        "certification_certification",
        "rep_id",
        ("rep_id", "subject_id", "level", "status", "issued_at", "expires_at"),
    ),
    ("certification_attempt", "rep_id", ("rep_id", "started_at")),
    ("certification_assessmentsession", "rep_id", ("rep_id", "scheduled_at")),
    ("certification_fieldobservation", "rep_id", ("rep_id", "observed_on")),
    ("accounts_user", "id", ("team_id", "segment", "sales_role")),
)
# (table, the columns whose change matters: None for any change)
GENERATION_SOURCES = (
    ("certification_readinessrequirement", None),
    ("certification_requiredcertification", None),
    ("accounts_team", ("path",)),
)
# A team is created with an empty path and given its real one at once: not a move.
TEAM_MOVED = "OLD.path <> ''"

UPSERT = (
    f"INSERT INTO {SUMMARY} AS s (rep_id, version, current, generation) {{rows}} "
    "ON CONFLICT (rep_id) DO UPDATE SET version = s.version + 1, current = false"
)
BUMP = f"UPDATE {GENERATION} SET value = value + 1"


def _changed(columns: tuple[str, ...], distinct: str, old: str = "OLD", new: str = "NEW") -> str:
    return " OR ".join(f"{old}.{column} {distinct} {new}.{column}" for column in columns)


def _function(schema_editor, name: str, body: str) -> None:
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n{body}\n"
        "RETURN NULL;\nEND;\n$$ LANGUAGE plpgsql;",
        params=None,  # no placeholders: PL/pgSQL
    )


def _statement_trigger(schema_editor, table: str, event: str, function: str) -> None:
    tables = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    schema_editor.execute(
        f"CREATE TRIGGER {table}_readiness_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        params=None,
    )


def _reps(select: str) -> str:
    """Upsert the distinct reps of ``select`` (one column, ``rep``), in rep order."""
    rows = (
        f"SELECT DISTINCT rep, 1, false, -1 FROM ({select}) AS touched "
        "WHERE rep IS NOT NULL ORDER BY rep"
    )
    return UPSERT.format(rows=rows) + ";"


def _postgresql(schema_editor) -> None:
    for table, rep, columns in REP_SOURCES:
        changed = _changed(columns, "IS DISTINCT FROM", "o", "n")
        moved = f"o.{rep} IS DISTINCT FROM n.{rep}"
        updated = (
            f"SELECT n.{rep} AS rep FROM new_rows n JOIN old_rows o ON o.id = n.id "
            f"WHERE {changed} "
            f"UNION SELECT o.{rep} FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {moved}"
        )
        events = {"UPDATE": updated}
        if table != "accounts_user":
            events["INSERT"] = f"SELECT {rep} AS rep FROM new_rows"
            events["DELETE"] = f"SELECT {rep} AS rep FROM old_rows"
        for event, select in events.items():
            function = f"{table}_readiness_{event.lower()}"
            _function(schema_editor, function, _reps(select))
            _statement_trigger(schema_editor, table, event, function)
    for table, columns in GENERATION_SOURCES:
        if columns is None:
            for event, rows in (("INSERT", "new_rows"), ("UPDATE", "new_rows"), ("DELETE", "old_rows")):
                function = f"{table}_readiness_{event.lower()}"
                _function(
                    schema_editor, function, f"IF EXISTS (SELECT 1 FROM {rows}) THEN {BUMP}; END IF;"
                )
                _statement_trigger(schema_editor, table, event, function)
        else:
            function = f"{table}_readiness_update"
            moved = f"({_changed(columns, 'IS DISTINCT FROM', 'o', 'n')}) AND o.path <> ''"
            _function(
                schema_editor,
                function,
                f"IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id "
                f"WHERE {moved}) THEN {BUMP}; END IF;",
            )
            _statement_trigger(schema_editor, table, "UPDATE", function)


def _sqlite(schema_editor) -> None:
    def touch(rep: str) -> str:
        return UPSERT.replace(" AS s", "").replace("s.version", f"{SUMMARY}.version").format(
            rows=f"VALUES ({rep}, 1, false, -1)"
        )

    for table, rep, columns in REP_SOURCES:
        if table != "accounts_user":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_insert AFTER INSERT ON {table} "
                f"BEGIN {touch(f'NEW.{rep}')}; END"
            )
            # Only an update: a delete must not bring back the row of a rep being deleted
            # with their history (Django's flush empties SQLite tables with DELETE).
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_delete AFTER DELETE ON {table} "
                f"BEGIN UPDATE {SUMMARY} SET version = version + 1, current = false "
                f"WHERE rep_id = OLD.{rep}; END"
            )
        # One writer at a time: the old rep of a moved row is only updated.
        schema_editor.execute(
            f"CREATE TRIGGER {table}_readiness_update AFTER UPDATE ON {table} "
            f"WHEN {_changed(columns, 'IS NOT')} "
            f"BEGIN {touch(f'NEW.{rep}')}; "
            f"UPDATE {SUMMARY} SET version = version + 1, current = false "
            f"WHERE rep_id = OLD.{rep} AND OLD.{rep} IS NOT NEW.{rep}; END"
        )
    for table, columns in GENERATION_SOURCES:
        events = ("INSERT", "UPDATE", "DELETE") if columns is None else ("UPDATE",)
        for event in events:
            when = f"WHEN ({_changed(columns, 'IS NOT')}) AND {TEAM_MOVED} " if columns else ""
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_{event.lower()} AFTER {event} ON {table} "
                f"{when}BEGIN {BUMP}; END"
            )


def triggers_expected() -> list[tuple[str, str]]:
    """(table, trigger name) of every trigger this migration creates, on either database."""
    expected = []
    for table, _rep, _columns in REP_SOURCES:
        events = ("update",) if table == "accounts_user" else ("insert", "update", "delete")
        expected += [(table, f"{table}_readiness_{event}") for event in events]
    for table, columns in GENERATION_SOURCES:
        events = ("insert", "update", "delete") if columns is None else ("update",)
        expected += [(table, f"{table}_readiness_{event}") for event in events]
    return expected


def install(apps, schema_editor):
    apps.get_model("certification", "ReadinessGeneration").objects.create(pk=1, value=0)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _postgresql(schema_editor)
    elif vendor == "sqlite":
        _sqlite(schema_editor)
    else:  # without triggers the summaries would go stale unseen
        raise NotImplementedError(f"readiness summaries need PostgreSQL or SQLite, not {vendor}")


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, name in triggers_expected():
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_events_append_only"),
        ("certification", "0010_readiness_summaries"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
