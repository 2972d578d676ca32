"""Settings of the Celery workers the reliability tests start: the test settings (the database
and Redis come from DATABASE_URL and REDIS_URL), with a message that a killed worker left
unacknowledged redelivered after 2 seconds instead of an hour."""

from config.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 2,
    # Look for such messages every second (by default every 10 s, scanning every 10th look).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
# Recompute tiers 20 reps at a time (per transaction, and per bulk task of the nightly
# recompute), so the test kills a recompute between two batches without thousands of reps.
TIERS_RECOMPUTE_BATCH = 20
TIERS_RECOMPUTE_ALL_BATCH = 20
