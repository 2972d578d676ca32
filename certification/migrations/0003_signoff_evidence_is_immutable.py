"""On PostgreSQL, the database itself refuses UPDATE and DELETE on level-3 evidence.

A sign-off, its revocation and the rep's acknowledgement are inserted once and never changed:
corrections and revocations are new rows. The application never updates them; this makes sure
nothing else does either (a shell, a script, a bug). Other databases rely on the services.
"""

from django.db import migrations

TABLES = (
    "certification_signoff",
    "certification_signoffrevocation",
    "certification_signoffacknowledgement",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION repready_refuse_evidence_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are evidence: they cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Supersede a sign-off with a correction, or revoke it with a reason.';
END;
$$ LANGUAGE plpgsql;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # no placeholders: '%' is PL/pgSQL's
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION repready_refuse_evidence_change()"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS repready_refuse_evidence_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0002_levels_2_and_3"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
