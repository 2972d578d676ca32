"""WSGI entry point for gunicorn."""

from django.core.wsgi import get_wsgi_application

from config.env import load_settings_or_exit

load_settings_or_exit("config.settings.production")
application = get_wsgi_application()
