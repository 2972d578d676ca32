"""Audit events are append-only in PostgreSQL itself, not only in the app.

A trigger refuses every UPDATE and DELETE of ``accounts_auditevent``, whoever runs it (a
shell, a data migration, a bug), except the one update Django itself makes: setting
``actor`` or ``target_type`` to NULL when that person or content type is deleted
(``on_delete=SET_NULL``), which keeps ``actor_label`` and ``target_label`` as they were.
TRUNCATE (how the test suite empties tables) fires no row trigger. SQLite gets nothing.

A data migration that must correct audit rows drops the trigger and creates it again, in
the same migration, saying why.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.id = OLD.id
        AND NEW.actor_label IS NOT DISTINCT FROM OLD.actor_label
        AND NEW.action IS NOT DISTINCT FROM OLD.action
        AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
        AND NEW.target_label IS NOT DISTINCT FROM OLD.target_label
        AND NEW.changes IS NOT DISTINCT FROM OLD.changes
        AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
        AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
        AND (NEW.target_type_id IS NULL OR NEW.target_type_id = OLD.target_type_id)
    THEN
        RETURN NEW;  -- ON DELETE SET NULL of the actor or the target's content type
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % of accounts_auditevent refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Audit rows are written once, by accounts.services.audit_record.';
END
$$;
"""
TRIGGER = """
CREATE TRIGGER accounts_auditevent_append_only
BEFORE UPDATE OR DELETE ON accounts_auditevent
FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS accounts_auditevent_append_only ON accounts_auditevent;
DROP FUNCTION IF EXISTS accounts_auditevent_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)  # no placeholders: '%' is PL/pgSQL's
        schema_editor.execute(TRIGGER)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_segment_and_sales_role"),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
