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


def _touch(rep: str) -> str:
    return (
        f"INSERT INTO {SUMMARY} (rep_id, version, current, generation) "
        f"VALUES ({rep}, 1, false, -1) "
        f"ON CONFLICT (rep_id) DO UPDATE SET version = {SUMMARY}.version + 1, current = false"
    )


BUMP = f"UPDATE {GENERATION} SET value = value + 1"


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _postgresql(schema_editor) -> None:
    for table, rep, columns in REP_SOURCES:
        function = f"{table}_readiness_touch"
        moved = f"OLD.{rep} IS DISTINCT FROM NEW.{rep}"
        schema_editor.execute(
            f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        {_touch(f"NEW.{rep}")};
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND {moved}) THEN
        {_touch(f"OLD.{rep}")};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
            params=None,
        )
        if table != "accounts_user":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_write AFTER INSERT OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()",
                params=None,
            )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_readiness AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION {function}()",
            params=None,
        )
    schema_editor.execute(
        f"""
CREATE OR REPLACE FUNCTION repready_readiness_generation_bump() RETURNS trigger AS $$
BEGIN
    {BUMP};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
        params=None,
    )
    for table, columns in GENERATION_SOURCES:
        if columns is None:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION repready_readiness_generation_bump()",
                params=None,
            )
        else:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) "
                "EXECUTE FUNCTION repready_readiness_generation_bump()",
                params=None,
            )


def _sqlite(schema_editor) -> None:
    for table, rep, columns in REP_SOURCES:
        if table != "accounts_user":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_insert AFTER INSERT ON {table} "
                f"BEGIN {_touch(f'NEW.{rep}')}; END"
            )
            # Only an update: a delete must not bring back the row of a rep being deleted
            # with their history (Django's flush empties SQLite tables with DELETE).
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_delete AFTER DELETE ON {table} "
                f"BEGIN UPDATE {SUMMARY} SET version = version + 1, current = false "
                f"WHERE rep_id = OLD.{rep}; END"
            )
        # SQLite runs one writer at a time, so the old rep of a moved row is only updated.
        schema_editor.execute(
            f"CREATE TRIGGER {table}_readiness AFTER UPDATE ON {table} "
            f"WHEN {_changed(columns, 'IS NOT')} "
            f"BEGIN {_touch(f'NEW.{rep}')}; "
            f"UPDATE {SUMMARY} SET version = version + 1, current = false "
            f"WHERE rep_id = OLD.{rep} AND OLD.{rep} IS NOT NEW.{rep}; END"
        )
    for table, columns in GENERATION_SOURCES:
        events = ("INSERT", "UPDATE", "DELETE") if columns is None else ("UPDATE",)
        for event in events:
            when = f"WHEN {_changed(columns, 'IS NOT')} " if columns else ""
            schema_editor.execute(
                f"CREATE TRIGGER {table}_readiness_{event.lower()} AFTER {event} ON {table} "
                f"{when}BEGIN {BUMP}; END"
            )


def install(apps, schema_editor):
    apps.get_model("certification", "ReadinessGeneration").objects.create(pk=1, value=0)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _postgresql(schema_editor)
    elif vendor == "sqlite":
        _sqlite(schema_editor)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, _rep, _columns in REP_SOURCES:
        if vendor == "postgresql":
            for name in ("readiness", "readiness_write"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_readiness_touch()")
        elif vendor == "sqlite":
            for name in ("readiness", "readiness_insert", "readiness_delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{name}")
    for table, _columns in GENERATION_SOURCES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_readiness ON {table}")
        elif vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_readiness_{event}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS repready_readiness_generation_bump()")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_events_append_only"),
        ("certification", "0010_readiness_summaries"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
