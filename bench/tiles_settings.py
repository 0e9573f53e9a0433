"""Settings for the uncached pass of bench/tiles.py: the portal exactly, with no tile cache."""

from portal.settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
