"""Local development: `make run`. DEBUG is on unless DJANGO_DEBUG says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A fixed development key is fine on a developer's machine only; production.py refuses it.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-key-not-for-production")
