#!/usr/bin/env bash
# RepReady's process entrypoint: one image (or one checkout), several roles.
#
#   entrypoint.sh web              gunicorn serving config.wsgi:application (the default)
#   entrypoint.sh worker           Celery worker
#   entrypoint.sh beat             Celery beat with django-celery-beat's DatabaseScheduler
#   entrypoint.sh migrate          manage.py migrate --noinput
#   entrypoint.sh manage ARGS...   manage.py ARGS...
#   entrypoint.sh CMD ARGS...      anything else is run as given
#
# Extra arguments after web, worker, beat and migrate are passed on to gunicorn, celery or
# manage.py. Programs are found on PATH (/opt/venv/bin in the image, .venv/bin in a checkout);
# the working directory is always the project root, whatever directory this is called from.
# DJANGO_SETTINGS_MODULE defaults to config.settings.production.
#
# Tuning, all optional: PORT (8000), WEB_BIND_HOST (0.0.0.0), WEB_CONCURRENCY (gunicorn
# workers, twice the CPUs), GUNICORN_THREADS (1), GUNICORN_TIMEOUT (30),
# GUNICORN_GRACEFUL_TIMEOUT (30), GUNICORN_KEEP_ALIVE (5), GUNICORN_MAX_REQUESTS (20000, 0 turns
# recycling off), GUNICORN_MAX_REQUESTS_JITTER (2000),
# FORWARDED_ALLOW_IPS (127.0.0.1), LOG_LEVEL (INFO), CELERY_CONCURRENCY (2),
# CELERY_QUEUES (comma-separated; all queues when empty).
set -euo pipefail

project_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$project_dir"
if [[ ! -f manage.py ]]; then
    echo "entrypoint: no manage.py in $project_dir" >&2
    exit 2
fi

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
log_level="${LOG_LEVEL:-INFO}"

role="${1:-web}"
if (($#)); then
    shift
fi

case "$role" in
    web)
        # gunicorn reads WEB_CONCURRENCY itself on import and fails on an empty value.
        # Measured in bench/ on 2 cores: one thread per worker and two workers per core give
        # the best throughput and tail latency (threads queue for the GIL; see bench/README.md).
        export WEB_CONCURRENCY="${WEB_CONCURRENCY:-$(( $(nproc) * 2 ))}"
        args=(
            --bind "${WEB_BIND_HOST:-0.0.0.0}:${PORT:-8000}"
            --workers "$WEB_CONCURRENCY"
            --threads "${GUNICORN_THREADS:-1}"
            --timeout "${GUNICORN_TIMEOUT:-30}"
            --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}"
            --keep-alive "${GUNICORN_KEEP_ALIVE:-5}"
            --max-requests "${GUNICORN_MAX_REQUESTS:-20000}"
            --max-requests-jitter "${GUNICORN_MAX_REQUESTS_JITTER:-2000}"
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
            --access-logfile -
            --error-logfile -
            # gunicorn >= 25 otherwise creates a control socket under $HOME.
            --no-control-socket
        )
        # Heartbeat files on tmpfs: a disk-backed /tmp can stall workers (gunicorn's FAQ).
        if [[ -d /dev/shm && -w /dev/shm ]]; then
            args+=(--worker-tmp-dir /dev/shm)
        fi
        exec gunicorn "${args[@]}" "$@" config.wsgi:application
        ;;
    worker)
        args=(--loglevel "$log_level" --concurrency "${CELERY_CONCURRENCY:-2}")
        if [[ -n "${CELERY_QUEUES:-}" ]]; then
            args+=(--queues "$CELERY_QUEUES")
        fi
        exec celery -A config.celery worker "${args[@]}" "$@"
        ;;
    beat)
        # The DatabaseScheduler keeps its schedule in PostgreSQL, so no schedule file is
        # written; an empty --pidfile turns the pidfile off. Nothing needs a writable app dir.
        exec celery -A config.celery beat \
            -S django_celery_beat.schedulers:DatabaseScheduler \
            --loglevel "$log_level" --pidfile= "$@"
        ;;
    migrate)
        exec python manage.py migrate --noinput "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
