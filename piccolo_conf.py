"""Lets the ``piccolo`` command (e.g. ``piccolo migrations new registry --auto``) find the app."""

from registry.piccolo_conf import APP_REGISTRY, DB  # noqa: F401
