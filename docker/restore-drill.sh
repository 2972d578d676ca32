#!/usr/bin/env bash
# Restore drill: back up a PostgreSQL database with pg_dump, restore it into a fresh database
# with pg_restore, start the app on the restored copy with the production settings, and prove
# it serves the data that existed before the dump.
#
#   DATABASE_URL=postgres://USER@HOST:5432/NAME docker/restore-drill.sh [--seed]
#
# --seed first migrates the source database and loads the demo organisation into it (with the
# local settings, as `make run` does; CI drills a database it has just created). Without
# --seed the source is only read, so the drill can run against a copy of production.
#
# Before the dump it records the row count of every model, one active certification (its
# public id, holder and status) and the signing key's id; with --seed it also creates an API
# token. After the restore it checks that migrations are complete, that every count is the
# same, that the audit trail's append-only trigger came back, and, through gunicorn on a free
# port: /healthz (database ok), the certification's public verification page (the holder's
# name) and status, the JWKS, and with --seed GET /api/v1/me/ with the token made before the
# dump. Take the facts from a quiet source (CI's, a staging copy): rows written between the
# facts and the dump would show as a difference.
#
# Options, all from the environment: DRILL_RESTORE_DB (default: NAME_restored), dropped at the
# end unless DRILL_KEEP=1; DRILL_MAINTENANCE_DB (postgres), where CREATE/DROP DATABASE run.
# The restored copy is served with the same CREDENTIAL_SIGNING_KEY as the source: a real
# restore needs the key kept with the other secrets, not in the dump. REDIS_URL is only
# needed because the production settings require it (default redis://127.0.0.1:6379/15; the
# drill does not use the broker). Prints one PASS or FAIL line per check and exits non-zero if
# any failed; everything it started is stopped, and its temporary files removed, on exit.
set -euo pipefail
set +m  # see docker/smoke.sh: setsid then gives the web server its own process group

seed=0
for argument in "$@"; do
    case "$argument" in
        --seed) seed=1 ;;
        *)
            echo "restore-drill: unknown argument $argument (only --seed)" >&2
            exit 2
            ;;
    esac
done
if [[ -z "${DATABASE_URL:-}" ]]; then
    echo "restore-drill: DATABASE_URL must name the source database, for example:" >&2
    echo "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/repready_drill docker/restore-drill.sh --seed" >&2
    exit 2
fi

project_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$project_dir"
if [[ -x .venv/bin/python ]]; then
    export PATH="$project_dir/.venv/bin:$PATH"
fi
for program in python gunicorn pg_dump pg_restore psql; do
    if ! command -v "$program" >/dev/null; then
        echo "restore-drill: $program is not on PATH" >&2
        exit 2
    fi
done

started_at=$(date +%s.%N)
source_url="$DATABASE_URL"
# The restored database and the maintenance database: the source's URL with another name.
read -r source_db restored_db restored_url maintenance_url < <(
    python - "$source_url" "${DRILL_RESTORE_DB:-}" "${DRILL_MAINTENANCE_DB:-postgres}" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit

url, restored, maintenance = sys.argv[1:]
parts = urlsplit(url)
source = parts.path.lstrip("/")
if parts.scheme not in ("postgres", "postgresql") or not source:
    sys.exit("restore-drill: DATABASE_URL must be postgres://USER@HOST:PORT/NAME")
restored = restored or f"{source}_restored"
if restored == source:
    sys.exit("restore-drill: DRILL_RESTORE_DB must differ from the source database")
print(
    source,
    restored,
    urlunsplit(parts._replace(path=f"/{restored}")),
    urlunsplit(parts._replace(path=f"/{maintenance}")),
)
PY
)
[[ -n "${maintenance_url:-}" ]] || exit 2

export DJANGO_SETTINGS_MODULE=config.settings.production
SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export SECRET_KEY
CREDENTIAL_SIGNING_KEY="$(python -m config.signing_keys)"  # kept for the restore, as in life
export CREDENTIAL_SIGNING_KEY
unset CREDENTIAL_SIGNING_KEY_FILE
export ALLOWED_HOSTS=127.0.0.1,localhost
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/15}"
unset SECURE_SSL_REDIRECT  # the production default: requests arrive as from the TLS proxy

work="$(mktemp -d "${TMPDIR:-/tmp}/repready-drill.XXXXXX")"
web_pid=""
failed=0
passed=0

finish() {
    local status=$?
    trap - EXIT
    if [[ -n "$web_pid" ]]; then
        kill -TERM "$web_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$web_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$web_pid" 2>/dev/null || true
        wait "$web_pid" 2>/dev/null || true
    fi
    if [[ "${DRILL_KEEP:-0}" == 1 ]]; then
        echo "restore-drill: kept database $restored_db and files in $work"
    else
        psql "$maintenance_url" -q -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$restored_db\" WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf -- "$work"
    fi
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step_started=0
step() {
    step_started=$(date +%s.%N)
    echo "restore-drill: $*"
}
took() { python -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$step_started" "$(date +%s.%N)"; }
pass() {
    echo "PASS $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1"
    failed=$((failed + 1))
    if [[ -n "${2:-}" && -s "$work/$2.log" ]]; then
        echo "  --- last lines of $2.log ---"
        tail -n 20 "$work/$2.log" | sed 's/^/  | /'
    fi
}
# abort CHECK [LOG]: a step the rest depends on failed.
abort() {
    fail "$@"
    echo "restore-drill: FAILED at: $1"
    exit 1
}

# The facts a restore must keep, as JSON on the last line: every model's row count, one active
# certification and the signing key ids. With "token", first create an API token for the
# holder (reported with its secret) so that it is part of what is dumped.
facts() {
    python manage.py shell -c "
import json, sys
from django.apps import apps
from accounts.services import api_token_create
from certification.models import Certification
from certification.services.credentials import credential_jwks

held = (
    Certification.objects.filter(status=Certification.Status.ACTIVE)
    .select_related('rep').order_by('pk').first()
)
if held is None:
    sys.exit('no active certification to check the restore with')
facts = {}
if '$1' == 'token':
    token, raw = api_token_create(
        user=held.rep, name='restore drill', scopes=['read'], expires_in_days=1
    )
    facts['token'] = {'secret': raw, 'email': held.rep.email}
facts['counts'] = {
    model._meta.label: model._base_manager.count() for model in apps.get_models()
}
facts['certification'] = {
    'public_id': str(held.public_id), 'holder': held.rep.display_name, 'status': 'active',
}
facts['kids'] = sorted(key['kid'] for key in credential_jwks()['keys'])
print(json.dumps(facts))
" | tail -n 1
}

echo "restore-drill: $source_db -> pg_dump -> $restored_db -> gunicorn; files in $work"

# 1. The source: with --seed, migrated and loaded with the demo (local settings, tasks eager).
if ((seed)); then
    step "seeding $source_db with the demo organisation"
    if DJANGO_SETTINGS_MODULE=config.settings.local REDIS_URL="" \
        python manage.py migrate --noinput >"$work/seed.log" 2>&1 &&
        DJANGO_SETTINGS_MODULE=config.settings.local REDIS_URL="" \
            python manage.py seed_demo >>"$work/seed.log" 2>&1; then
        pass "source migrated and seeded ($(took) s)"
    else
        abort "seed the source database" seed
    fi
fi

step "recording what the source holds"
if facts "$( ((seed)) && echo token || echo none)" >"$work/before.json" 2>"$work/before.log"; then
    pass "source facts recorded: $(python -c '
import json, sys
facts = json.load(open(sys.argv[1]))
counts = facts["counts"]
print(f"{sum(counts.values())} rows in {len(counts)} models, certification {facts["certification"]["public_id"]}")
' "$work/before.json")"
else
    abort "record the source's facts" before
fi

# 2. Back up: pg_dump's custom format (compressed, restorable table by table, in parallel).
step "pg_dump -Fc $source_db"
if pg_dump --format=custom --file="$work/repready.dump" "$source_url" 2>"$work/dump.log"; then
    pass "pg_dump wrote $(du -h "$work/repready.dump" | cut -f1) ($(took) s)"
else
    abort "pg_dump the source" dump
fi
# A backup that cannot be listed cannot be restored: check its table of contents.
if tables=$(pg_restore --list "$work/repready.dump" 2>"$work/list.log" | grep -c "TABLE DATA") &&
    ((tables > 0)); then
    pass "the archive lists $tables tables of data"
else
    abort "pg_restore --list the archive" list
fi

# 3. Restore into a fresh, empty database.
step "pg_restore into a fresh database $restored_db"
if ! psql "$maintenance_url" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$restored_db\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$restored_db\"" >"$work/create.log" 2>&1; then
    abort "create the database $restored_db" create
fi
if pg_restore --no-owner --no-privileges --exit-on-error --jobs=2 \
    --dbname="$restored_url" "$work/repready.dump" >"$work/restore.log" 2>&1; then
    pass "pg_restore into $restored_db ($(took) s)"
else
    abort "pg_restore into $restored_db" restore
fi

export DATABASE_URL="$restored_url"

# 4. The restored database is complete: no migration missing, every row count the same.
if python manage.py migrate --check >"$work/migrate-check.log" 2>&1; then
    pass "every migration is applied in the restored database"
else
    fail "every migration is applied in the restored database" migrate-check
fi
if facts none >"$work/after.json" 2>"$work/after.log"; then
    if comparison="$(python - "$work/before.json" "$work/after.json" <<'PY'
import json, sys

before, after = (json.load(open(path)) for path in sys.argv[1:])
differ = {
    label: (before["counts"].get(label), after["counts"].get(label))
    for label in sorted(set(before["counts"]) | set(after["counts"]))
    if before["counts"].get(label) != after["counts"].get(label)
}
if differ:
    print(f"row counts differ (before, after): {differ}")
    sys.exit(1)
print(f"{sum(after['counts'].values())} rows in {len(after['counts'])} models")
PY
    )"; then
        pass "the restored database holds the same rows: $comparison"
    else
        fail "the restored database holds the same rows: $comparison"
    fi
else
    fail "read the restored database's facts" after
fi

# The database's own guards came back with it: the audit trail still refuses to be rewritten.
forge="UPDATE accounts_auditevent SET action = action || ' (forged)'
       WHERE id = (SELECT min(id) FROM accounts_auditevent)"
if psql "$restored_url" -q -v ON_ERROR_STOP=1 -c "$forge" >"$work/forge.log" 2>&1; then
    fail "the restored audit trail refuses UPDATE (the trigger is missing)"
elif grep -q "append-only" "$work/forge.log"; then
    pass "the restored audit trail still refuses UPDATE"
else
    fail "the restored audit trail refuses UPDATE" forge
fi

# 5. The app serves it: gunicorn with the production settings, on a free port, its static
# files collected as the image's build does (here into the drill's own directory).
step "starting gunicorn on the restored database"
export STATIC_ROOT="$work/static"
if ! python manage.py collectstatic --noinput >"$work/collectstatic.log" 2>&1; then
    abort "collect the static files" collectstatic
fi
port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PORT="$port" WEB_BIND_HOST=127.0.0.1 WEB_CONCURRENCY=1 \
    setsid docker/entrypoint.sh web >"$work/web.log" 2>&1 &
web_pid=$!
if python - "$port" "$work/before.json" >"$work/http.log" 2>&1 <<'PY'; then
import html
import http.client
import json
import sys
import time

port, facts = int(sys.argv[1]), json.load(open(sys.argv[2]))
# As the TLS proxy forwards them (SECURE_SSL_REDIRECT is on, as in production).
HEADERS = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}


def get(path, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={**HEADERS, **headers})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))
    failures += not ok


deadline = time.monotonic() + 30
while True:
    try:
        status, body = get("/healthz")
        if status == 200:
            break
    except OSError as exc:
        status, body = 0, str(exc)
    if time.monotonic() > deadline:
        break
    time.sleep(0.5)
health = json.loads(body) if status == 200 else {}
check("the app answers /healthz with the database ok", health.get("database") == "ok", body)
if status != 200:
    sys.exit(1)

certification = facts["certification"]
status, body = get(f"/verify/{certification['public_id']}/")
holder = certification["holder"]
check(
    f"/verify/{certification['public_id']}/ names the holder, {holder}",
    status == 200 and (holder in body or html.escape(holder) in body),
    f"HTTP {status}",
)
status, body = get(f"/verify/{certification['public_id']}/status/")
check(
    "the certification's status is still active",
    status == 200 and json.loads(body).get("status") == certification["status"],
    f"HTTP {status} {body[:200]}",
)
status, body = get("/.well-known/jwks.json")
kids = sorted(key["kid"] for key in json.loads(body).get("keys", [])) if status == 200 else []
check("the JWKS publishes the same signing key", kids == facts["kids"], f"{kids} != {facts['kids']}")
if token := facts.get("token"):
    status, body = get("/api/v1/me/", Authorization=f"Token {token['secret']}")
    me = json.loads(body) if status == 200 else {}
    check(
        "an API token created before the dump signs in to the API",
        me.get("email") == token["email"],
        f"HTTP {status} {body[:200]}",
    )
sys.exit(1 if failures else 0)
PY
    cat "$work/http.log"
    passed=$((passed + $(grep -c '^PASS' "$work/http.log")))
else
    grep '^PASS\|^FAIL' "$work/http.log" || true
    passed=$((passed + $(grep -c '^PASS' "$work/http.log" || true)))
    failed=$((failed + $(grep -c '^FAIL' "$work/http.log" || true)))
    fail "the app serves the restored data" web
fi

elapsed="$(python -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$started_at" "$(date +%s.%N)")"
if ((failed)); then
    echo "restore-drill: FAILED ($failed failed, $passed passed) in $elapsed s"
    exit 1
fi
echo "restore-drill: all $passed checks OK in $elapsed s"
