"""Errors that services raise with a message in both languages.

Controllers turn them into 400/404/409 responses or form messages; the CLI prints them.
"""

from __future__ import annotations


class ServiceError(ValueError):
    status_code = 400

    def __init__(self, zh: str, en: str, field: str | None = None):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.field = field

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Forbidden(ServiceError):
    status_code = 403
