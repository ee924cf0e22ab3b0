"""Demo patients for `manage.py seed_demo`."""
