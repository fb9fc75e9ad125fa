import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their models and admins: ~100,000 objects) lives as
# long as the worker: out of the cyclic collector's sight, its full collections no longer walk
# all of it during a request (~50-70 ms each, about one in 50 requests; docs/performance.md,
# "The admin under load"). Collected first, so that no garbage is kept for ever.
gc.collect()
gc.freeze()
