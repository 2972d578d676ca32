"""Tests: fast hashing, in-memory email and cache, Celery eager (the round-trip test opts out)."""

from config.env import env_str
from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "test-secret-key-not-used-anywhere-else-0123456789abcdef")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tests share no cache state with each other or with a developer's Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run inline so a test sees their effect; tests/config/test_celery.py sends a real
# round trip through REDIS_URL when it is set.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app and project folders, as runserver does: tests never run
# collectstatic, and the browser tests' live server needs the stylesheet.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# No CREDENTIAL_SIGNING_KEY: sign credentials with a development key derived from SECRET_KEY.
CREDENTIAL_DEVELOPMENT_KEY = True
