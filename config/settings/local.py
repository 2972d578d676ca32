"""Development: DEBUG on, a throwaway secret key, console email, SQLite unless DATABASE_URL."""

from config.env import env_list, env_str, mailers_from_env
from config.settings.base import *  # noqa: F403

DEBUG = True
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-local-development-only-never-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
MAILERS = mailers_from_env("django.core.mail.backends.console.EmailBackend")
# No CREDENTIAL_SIGNING_KEY: sign credentials with a development key derived from SECRET_KEY.
CREDENTIAL_DEVELOPMENT_KEY = True
