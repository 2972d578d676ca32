#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import sys

from config.env import load_settings_or_exit


def main() -> None:
    """Load settings (one clear line if they are wrong), then run the command."""
    load_settings_or_exit("config.settings.local")
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
