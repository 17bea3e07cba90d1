"""JSON shapes of the public API (msgspec Structs: fast, and documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from registry import statuses
from registry.districts import district_name
from registry.services.codes import qr_png_url, qr_svg_url, verify_url
from registry.services.entries import (
    AuthorisedUserRecord,
    EntryDetail,
    EntryRecord,
    HistoryRecord,
)
from registry.services.registers import Catalog, RegisterInfo
from registry.settings import get_settings


class Enterprise(msgspec.Struct):
    name: str
    uscc: str
    name_en: str = ""


class Entry(msgspec.Struct):
    entry_no: str
    name: str
    name_en: str
    register: str
    register_name: str
    subtype: str
    subtype_name: str
    status: str
    status_label: str
    valid_from: dt.date
    valid_until: dt.date | None
    enterprise: Enterprise
    district: str
    district_name: str
    industry: str
    authority: str
    verify_url: str
    qr_png_url: str
    qr_svg_url: str
    page_url: str
    is_demo: bool


class HistoryItem(msgspec.Struct):
    changed_at: dt.datetime
    from_status: str | None
    to_status: str
    reason: str
    signed_by: str
    authorised_user_no: str | None = None


class AuthorisedUser(msgspec.Struct):
    user_no: str
    enterprise: Enterprise
    valid_from: dt.date
    valid_until: dt.date | None
    status: str
    status_reason: str
    verify_url: str
    qr_png_url: str
    qr_svg_url: str


class EntryDetailOut(Entry, kw_only=True):
    status_reason: str
    condition_deadline: dt.date | None
    extra: dict[str, Any]
    history: list[HistoryItem]
    authorised_users: list[AuthorisedUser]


class EntryPage(msgspec.Struct):
    items: list[Entry]
    total: int
    page: int
    page_size: int
    pages: int


class Subtype(msgspec.Struct):
    code: str
    name_zh: str
    name_en: str
    authority_zh: str
    authority_en: str
    validity_years: int | None
    notice_days: int | None
    notice_working_days: bool
    number_format: str
    extra_fields: list[dict[str, Any]]


class Register(msgspec.Struct):
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    authority_zh: str
    authority_en: str
    open_for_applications: bool
    closed_note_zh: str
    closed_note_en: str
    industries: list[dict[str, str]]
    subtypes: list[Subtype]


class VerifyResult(msgspec.Struct):
    result: str
    genuine: bool
    message_zh: str
    message_en: str
    token: str
    decided_by: str | None = None
    reason: str = ""
    entry: EntryDetailOut | None = None
    authorised_user: AuthorisedUser | None = None


class ErrorBody(msgspec.Struct):
    status_code: int
    detail: str
    message_zh: str
    message_en: str
    field: str | None = None


# --- builders ---------------------------------------------------------------------------


def _label(status: str, lang: str) -> str:
    label = statuses.LABELS[status]
    return label.en if lang == "en" else label.zh


def entry_out(e: EntryRecord, catalog: Catalog, lang: str = "zh") -> Entry:
    token = e.token
    register = catalog.by_code[e.register_code]
    subtype = catalog.subtypes_by_code[e.subtype_code]
    return Entry(
        entry_no=e.entry_no,
        name=e.name,
        name_en=e.name_en,
        register=e.register_code,
        register_name=register.name(lang),
        subtype=e.subtype_code,
        subtype_name=subtype.name(lang),
        status=e.status,
        status_label=_label(e.status, lang),
        valid_from=e.valid_from,
        valid_until=e.valid_until,
        enterprise=Enterprise(e.enterprise_name, e.enterprise_uscc, e.enterprise_name_en),
        district=e.district_code,
        district_name=district_name(e.district_code, lang),
        industry=e.industry,
        authority=e.authority_en if lang == "en" and e.authority_en else e.authority_zh,
        verify_url=verify_url(token),
        qr_png_url=qr_png_url(token),
        qr_svg_url=qr_svg_url(token),
        page_url=f"{get_settings().base_url}/entries/{e.entry_no}",
        is_demo=e.is_demo,
    )


def user_out(u: AuthorisedUserRecord) -> AuthorisedUser:
    token = u.token
    return AuthorisedUser(
        user_no=u.user_no,
        enterprise=Enterprise(u.enterprise_name, u.enterprise_uscc, u.enterprise_name_en),
        valid_from=u.valid_from,
        valid_until=u.valid_until,
        status=u.status,
        status_reason=u.status_reason,
        verify_url=verify_url(token),
        qr_png_url=qr_png_url(token),
        qr_svg_url=qr_svg_url(token),
    )


def history_out(h: HistoryRecord) -> HistoryItem:
    return HistoryItem(h.changed_at, h.from_status, h.to_status, h.reason, h.signed_by, h.user_no)


def entry_detail_out(
    e: EntryRecord,
    history: list[HistoryRecord] | tuple[HistoryRecord, ...],
    users: list[AuthorisedUserRecord],
    catalog: Catalog,
    lang: str = "zh",
) -> EntryDetailOut:
    base = entry_out(e, catalog, lang)
    fields = {f: getattr(base, f) for f in base.__struct_fields__}
    return EntryDetailOut(
        **fields,
        status_reason=e.status_reason,
        condition_deadline=e.condition_deadline,
        extra=e.extra,
        history=[history_out(h) for h in history],
        authorised_users=[user_out(u) for u in users],
    )


def detail_out(detail: EntryDetail, catalog: Catalog, lang: str = "zh") -> EntryDetailOut:
    return entry_detail_out(detail.entry, detail.history, detail.authorised_users, catalog, lang)


def register_out(r: RegisterInfo) -> Register:
    return Register(
        code=r.code,
        name_zh=r.name_zh,
        name_en=r.name_en,
        description_zh=r.description_zh,
        description_en=r.description_en,
        authority_zh=r.authority_zh,
        authority_en=r.authority_en,
        open_for_applications=r.open_for_applications,
        closed_note_zh=r.closed_note_zh,
        closed_note_en=r.closed_note_en,
        industries=list(r.industries),
        subtypes=[
            Subtype(
                code=s.code,
                name_zh=s.name_zh,
                name_en=s.name_en,
                authority_zh=s.authority_zh,
                authority_en=s.authority_en,
                validity_years=s.validity_years,
                notice_days=s.notice_days,
                notice_working_days=s.notice_working_days,
                number_format=s.number_format,
                extra_fields=[msgspec.structs.asdict(f) for f in _field_structs(s.extra_fields)],
            )
            for s in r.subtypes
        ],
    )


class _FieldOut(msgspec.Struct):
    key: str
    label_zh: str
    label_en: str
    type: str
    required: bool
    choices: list[dict[str, str]]


def _field_structs(fields) -> list[_FieldOut]:
    return [
        _FieldOut(f.key, f.label_zh, f.label_en, f.type, f.required, list(f.choices))
        for f in fields
    ]
