"""Production: every secret from the environment, HTTPS only, strict cookies and headers."""

from config.env import ConfigError, env_bool, env_int, env_list, env_str
from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", required=True)
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ConfigError(
        "SECRET_KEY is too weak for production: use at least 50 random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required=True)
env_str("DATABASE_URL", required=True)  # never fall back to the SQLite file in production
if not REDIS_URL:
    raise ConfigError("REDIS_URL must be set: production runs Celery workers and beat on Redis.")
if not CREDENTIAL_SIGNING_KEY:
    raise ConfigError(
        "CREDENTIAL_SIGNING_KEY (a PEM private key) or CREDENTIAL_SIGNING_KEY_FILE must be set: "
        "it signs the verifiable credentials (make one with: python -m config.signing_keys)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# __Host- cookies are only accepted over HTTPS, on this exact host and path.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"

DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60, minimum=0)
