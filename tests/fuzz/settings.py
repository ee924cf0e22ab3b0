"""Production settings for the fuzzed server, except static files: served from the source
folders without a collected manifest (collecting and compressing them takes minutes here, and
the API serves none)."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
