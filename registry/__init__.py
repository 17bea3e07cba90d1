"""The brand and certification registry: domain core, API and app factory."""

import os

# Piccolo finds its engine through this module; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")
