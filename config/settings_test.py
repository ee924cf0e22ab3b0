"""Settings for the test suite: the normal settings with tasks run inline and fast hashing.

django-q2 reads `Q_CLUSTER["sync"]` when it is imported, so it must be set here, before
anything imports it; overriding it later from a fixture has no effect.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# The tests run the WhatsApp simulator (and its command) under production-like settings.
os.environ.setdefault("DEVTOOLS", "true")

from config.settings import *  # noqa: F403
from config.settings import DATA_DIR, Q_CLUSTER

Q_CLUSTER["sync"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in prod
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {
        "BACKEND": "clinics.storage.EncryptedFileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "test-media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AXES_ENABLED = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
