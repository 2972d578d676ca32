#!/usr/bin/env bash
# Smoke test of docker/entrypoint.sh outside Docker, against a real PostgreSQL and Redis.
#
#   DATABASE_URL=postgres://USER@HOST:5432/NAME REDIS_URL=redis://HOST:6379/N docker/smoke.sh
#
# Runs the image's roles (migrate, manage, web, worker, beat) from this checkout with the
# production settings, using .venv/bin when it exists and PATH otherwise. Prints one PASS or
# FAIL line per check, with the relevant log tail under each FAIL, and exits non-zero if any
# check failed. Every process it starts is stopped on exit, on failure too. Its logs go to a
# temporary directory, removed at the end unless SMOKE_KEEP_LOGS=1.
set -euo pipefail
# No job control: background processes then stay out of process-group leadership, so setsid
# below gives each its own group without forking, and $! is the process itself.
set +m

missing=()
[[ -n "${DATABASE_URL:-}" ]] || missing+=(DATABASE_URL)
[[ -n "${REDIS_URL:-}" ]] || missing+=(REDIS_URL)
if ((${#missing[@]})); then
    echo "smoke: ${missing[*]} must be set, for example:" >&2
    echo "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/repready_smoke" \
        "REDIS_URL=redis://127.0.0.1:6379/3 docker/smoke.sh" >&2
    exit 2
fi

project_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$project_dir"
if [[ -x .venv/bin/python ]]; then
    export PATH="$project_dir/.venv/bin:$PATH"
fi
for program in python gunicorn celery; do
    if ! command -v "$program" >/dev/null; then
        echo "smoke: $program is not on PATH (install the project: make run, or make test)" >&2
        exit 2
    fi
done

entrypoint="$project_dir/docker/entrypoint.sh"
export DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=config.settings.production
SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"  # 64 characters
export SECRET_KEY
CREDENTIAL_SIGNING_KEY="$(python -m config.signing_keys)"  # a throwaway P-256 key
export CREDENTIAL_SIGNING_KEY
unset CREDENTIAL_SIGNING_KEY_FILE
export ALLOWED_HOSTS=127.0.0.1,localhost
# Keep the production default (redirect to HTTPS): /healthz must answer ahead of it.
unset SECURE_SSL_REDIRECT
# Beat must leave no pidfile or schedule file in the project directory: note any already there.
stray_files=(celerybeat.pid celerybeat-schedule celerybeat-schedule.db)
stray_before=()
for file in "${stray_files[@]}"; do
    if [[ -e "$project_dir/$file" ]]; then
        stray_before+=("$file")
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/repready-smoke.XXXXXX")"
started=()
results=()
passed=0
failed=0

stop_all() {
    local pid deadline
    # Ask each process group's leader (gunicorn's arbiter, Celery's main process) to stop...
    for pid in "${started[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    deadline=$((SECONDS + 15))
    for pid in "${started[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.2
        done
    done
    # ...then end whatever is left of each group it led (its workers and pool processes).
    for pid in "${started[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    started=()
}

finish() {
    local status=$?
    trap - EXIT
    stop_all
    if [[ "${SMOKE_KEEP_LOGS:-0}" == 1 ]]; then
        echo "smoke: logs kept in $work"
    else
        rm -rf -- "$work"
    fi
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME ARGS...: run ARGS in the background, in its own process group, logging to
# $work/NAME.log; sets started_pid.
start() {
    local name=$1
    shift
    setsid "$@" >"$work/$name.log" 2>&1 &
    started_pid=$!
    started+=("$started_pid")
}

pass() {
    echo "PASS $1"
    results+=("PASS $1")
    passed=$((passed + 1))
}

# fail CHECK [LOG_NAME...]: report, with the last lines of each of those logs.
fail() {
    local check=$1 name
    shift
    echo "FAIL $check"
    results+=("FAIL $check")
    failed=$((failed + 1))
    for name in "$@"; do
        if [[ -s "$work/$name.log" ]]; then
            echo "  --- last lines of $name.log ---"
            tail -n 20 "$work/$name.log" | sed 's/^/  | /'
        fi
    done
}

# http_get PORT PATH: print the status line's code, the Location header and the body.
http_get() {
    python - "$1" "$2" <<'PY'
import http.client
import sys

connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
try:
    connection.request("GET", sys.argv[2], headers={"Host": "127.0.0.1"})
    response = connection.getresponse()
    print(response.status)
    print(response.getheader("Location", ""))
    print(response.read().decode(errors="replace"))
except (OSError, http.client.HTTPException) as exc:
    print(0)
    print("")
    print(f"{type(exc).__name__}: {exc}")
PY
}

echo "smoke: project $project_dir, logs in $work"

# 1. Any other command is run as given, from the project root, whatever the caller's directory.
cwd="$(cd / && "$entrypoint" python -c 'import os; print(os.getcwd())' 2>"$work/exec.log" || true)"
if [[ "$cwd" == "$project_dir" ]]; then
    pass "entrypoint runs other commands from the project root"
else
    echo "working directory was: ${cwd:-<none>}" >>"$work/exec.log"
    fail "entrypoint runs other commands from the project root" exec
fi

# 2. migrate
if "$entrypoint" migrate >"$work/migrate.log" 2>&1; then
    pass "migrate applies the migrations"
else
    fail "migrate applies the migrations" migrate
fi

# 3. manage passes its arguments to manage.py
if "$entrypoint" manage check >"$work/manage.log" 2>&1; then
    pass "manage check (production settings)"
else
    fail "manage check (production settings)" manage
fi

# 4. web: gunicorn answers /healthz
port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PORT="$port" WEB_BIND_HOST=127.0.0.1 start web "$entrypoint" web
web_pid=$started_pid
health_status=0
health_body=""
deadline=$((SECONDS + 30))
while ((SECONDS < deadline)) && kill -0 "$web_pid" 2>/dev/null; do
    response="$(http_get "$port" /healthz)"
    health_status="$(sed -n 1p <<<"$response")"
    health_body="$(sed -n '3,$p' <<<"$response")"
    [[ "$health_status" == 200 ]] && break
    sleep 0.5
done
if [[ "$health_status" == 200 ]]; then
    pass "web serves /healthz with 200 on port $port"
else
    echo "last /healthz answer: $health_status $health_body" >>"$work/web.log"
    fail "web serves /healthz with 200 on port $port" web
fi

# 5. /healthz reports both the database and the broker as reachable
if verdict="$(python -c '
import json, sys
body = json.loads(sys.argv[1])
problems = [f"{key}={body.get(key)!r}" for key in ("database", "broker") if body.get(key) != "ok"]
print(" ".join(problems) or json.dumps(body))
sys.exit(1 if problems else 0)
' "$health_body" 2>&1)"; then
    pass "/healthz reports database ok and broker ok: $verdict"
else
    echo "/healthz body: $health_body" >>"$work/web.log"
    fail "/healthz reports database ok and broker ok (${verdict##*$'\n'})" web
fi

# 6. The HTTPS redirect is really on, so check 4 shows /healthz answering ahead of it.
response="$(http_get "$port" /)"
redirect_status="$(sed -n 1p <<<"$response")"
redirect_location="$(sed -n 2p <<<"$response")"
if [[ "$redirect_status" == 301 && "$redirect_location" == https://* ]]; then
    pass "other paths still redirect to HTTPS (301 -> $redirect_location)"
else
    echo "GET / answered: $redirect_status ${redirect_location:-<no Location>}" >>"$work/web.log"
    fail "other paths still redirect to HTTPS" web
fi

# 7. worker: a task makes the round trip through the broker and the result backend
start worker "$entrypoint" worker
worker_pid=$started_pid
ping_code='from config.celery import ping
result = ping.delay().get(timeout=30)
assert result == "pong", result
print("ping ->", result)'
if timeout 90 python manage.py shell -c "$ping_code" >"$work/ping.log" 2>&1; then
    pass "worker answers the ping task (pong)"
else
    fail "worker answers the ping task" ping worker
fi
if ! kill -0 "$worker_pid" 2>/dev/null; then
    fail "worker is still running" worker
fi

# 8. beat: starts with the DatabaseScheduler and keeps running, writing nothing here
start beat "$entrypoint" beat
beat_pid=$started_pid
sleep 6 &
wait "$!"  # in the background, so an interrupt stops the smoke test at once
if ! kill -0 "$beat_pid" 2>/dev/null; then
    fail "beat is still running after 6 s" beat
elif ! grep -q "beat: Starting" "$work/beat.log"; then
    fail "beat logged 'beat: Starting'" beat
else
    pass "beat is running after 6 s and logged 'beat: Starting'"
fi
strays=()
for file in "${stray_files[@]}"; do
    if [[ -e "$project_dir/$file" && " ${stray_before[*]} " != *" $file "* ]]; then
        strays+=("$file")
    fi
done
if ((${#strays[@]})); then
    fail "beat wrote no pidfile or schedule into the project (found: ${strays[*]})" beat
fi

stop_all
if ((failed)); then
    echo
    printf '%s\n' "${results[@]}"
fi
if ((failed)); then
    echo "smoke: FAILED ($failed of $((passed + failed)) entrypoint checks)"
else
    echo "smoke: all $passed entrypoint checks OK"
fi
((failed == 0))
