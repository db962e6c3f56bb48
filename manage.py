#!/usr/bin/env python
"""Django's command-line utility for the Partnership Registry."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    # Commands (bulk loads, migrations, restores) may run statements longer than the web server's 20 s limit:
    # no statement timeout for them unless DATABASE_STATEMENT_TIMEOUT_MS says otherwise (registry/settings.py).
    os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
