# Horizon's settings in the image: the layout a deployment mounts into.
#
# /etc/horizon/local_settings.py (this file) and /etc/horizon/local_settings.d/*.py
# are read through links from openstack_dashboard/local/; a deployment
# replaces this file or drops snippets into the folder. Static assets were
# collected and compressed at build time with these settings, so keep
# STATIC_ROOT and COMPRESS_OFFLINE as they are.
import os

from horizon.utils import secret_key

DEBUG = False
ALLOWED_HOSTS = os.environ.get("HORIZON_ALLOWED_HOSTS", "*").split(",")
WEBROOT = "/"
STATIC_ROOT = "/var/lib/openstack/static"
COMPRESS_OFFLINE = True
OPENSTACK_KEYSTONE_URL = os.environ.get("HORIZON_KEYSTONE_URL", "http://keystone:5000/v3")
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
# A process-local cache until the deployment names its memcached: compressing
# at build time against an unreachable memcached silently leaves a block out
# of the offline manifest, and the login page then fails at run time.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A key from the environment, else one made once per container in the
# service user's own folder (never baked into the image).
SECRET_KEY = os.environ.get("HORIZON_SECRET_KEY") or secret_key.generate_or_read_from_file(
    "/var/lib/horizon/.secret_key_store"
)
