"""The ASGI entry point: `uvicorn config.asgi:application` serves the shop.

Under ASGI, Django runs the async views (shop/async_views.py) on the server's event loop
and the synchronous ones (the DRF views) in a worker thread.
https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
