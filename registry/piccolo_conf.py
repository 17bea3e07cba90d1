"""Piccolo's configuration module (PICCOLO_CONF points here)."""

from piccolo.conf.apps import AppRegistry

from registry.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])
