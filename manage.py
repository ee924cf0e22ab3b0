#!/usr/bin/env python
import os
import sys

# These read the configuration or make keys for it: they never generate key files into the data
# folder (config/settings.py), which a check or a fresh installation would then be left with.
KEYS_READ_ONLY_COMMANDS = {
    "check_deploy",
    "generate_secret_key",
    "generate_encryption_key",
    "generate_audit_key",
    "generate_backup_key",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYS_READ_ONLY_COMMANDS:
        os.environ["VAIDYA_KEYS_READ_ONLY"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
