"""Read by `celery -A project flower` (Flower's `--conf`, default `flowerconfig.py`).

Every module-level name that matches a Flower option sets it; the choices and
the start-up check live in project/flower_config.py.
"""

import sys as _sys

from tornado.options import options as _current

from project import app as _app
from project import settings as _settings
from project.errors import ConfigurationError as _ConfigurationError
from project.flower_config import flower_options as _flower_options
from project.flower_config import use_plain_transport as _use_plain_transport

_use_plain_transport(_app)
try:
    globals().update(_flower_options(_settings, _current))
except _ConfigurationError as _exc:
    _sys.exit(f"flower: {_exc}")
