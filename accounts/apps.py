from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self) -> None:
        # Connects the sign-in receiver that starts a session's clock (session timeouts).
        from accounts import middleware  # noqa: F401, PLC0415
