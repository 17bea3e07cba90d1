"""Small helpers shared by the back-office form pages: reading a posted form, parsing
dates and numbers with messages in both languages, and placing a service error next
to the field it is about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

from litestar import Request

from registry.services.errors import Forbidden, NotFound, ServiceError


async def read_form(request: Request) -> dict[str, str]:
    """The posted form as plain strings (the last value wins for a repeated name)."""
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "_csrf_token"}


def parse_date(values: dict[str, str], key: str, zh: str, en: str, required: bool = False):
    text = values.get(key, "").strip()
    if not text:
        if required:
            raise ServiceError(f"请填写“{zh}”。", f"'{en}' is required.", field=key)
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            f"“{zh}”应为日期，格式 2025-01-31。",
            f"'{en}' must be a date like 2025-01-31.",
            field=key,
        ) from None


def parse_int(values: dict[str, str], key: str, zh: str, en: str) -> int | None:
    """An optional whole number: empty means none."""
    text = values.get(key, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ServiceError(
            f"“{zh}”应为整数，或留空表示不设。",
            f"'{en}' must be a whole number, or empty for none.",
            field=key,
        )
    return int(text)


def with_field(exc: ServiceError, mapping: dict[str, str]) -> ServiceError:
    """The same error, its field renamed to the form's name for it (class kept)."""
    renamed = type(exc)(exc.zh, exc.en, field=mapping.get(exc.field or "", exc.field))
    return renamed


def reraise_if_not_form_error(exc: ServiceError) -> None:
    """Permission and not-found errors become 403/404 pages, not form messages."""
    if isinstance(exc, Forbidden | NotFound):
        raise exc


@dataclass
class FormErrors:
    """A service error placed on the form: by field when the form has it, else on top."""

    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.message)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def form_errors(exc: ServiceError, lang: str, known: set[str] | frozenset[str]) -> FormErrors:
    message = exc.message(lang)
    if exc.field and exc.field in known:
        return FormErrors(message, {exc.field: message})
    return FormErrors(message)


def path_part(value: str) -> str:
    return quote(value, safe="")
