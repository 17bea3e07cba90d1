"""Register configuration (administrators): names, authority, open or closed to new
applications, and each subtype's validity, public-notice period, numbering and typed
extra fields.  Closing a register only stops new applications: every lookup and
verification of its entries goes on unchanged."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from admin.auth import current_actor, staff_guard
from admin.forms import (
    FormErrors,
    form_errors,
    parse_int,
    path_part,
    read_form,
    reraise_if_not_form_error,
)
from public_site.rendering import page, request_lang
from registry.services import entries as entry_service
from registry.services import registers as register_service
from registry.services.entries import EntryFilters
from registry.services.errors import ServiceError
from registry.services.registers import RegisterInfo, SubtypeInfo, get_catalog

EDIT = {"permission": "register.edit"}
REGISTER_TEXT = (
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "authority_zh",
    "authority_en",
    "closed_note_zh",
    "closed_note_en",
)
SUBTYPE_TEXT = ("name_zh", "name_en", "authority_zh", "authority_en", "number_format")
REGISTER_FORM_FIELDS = frozenset(REGISTER_TEXT) | {"open_for_applications"}
SUBTYPE_FORM_FIELDS = frozenset(SUBTYPE_TEXT) | {
    "validity_years",
    "notice_days",
    "notice_working_days",
    "extra_fields",
}


def _register_values(register: RegisterInfo) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(register, k) for k in REGISTER_TEXT}
    values["open_for_applications"] = register.open_for_applications
    return values


def fields_json(subtype: SubtypeInfo) -> str:
    """A subtype's extra-field definitions as the JSON the form edits."""
    fields = []
    for f in subtype.extra_fields:
        item: dict[str, Any] = {
            "key": f.key,
            "label_zh": f.label_zh,
            "label_en": f.label_en,
            "type": f.type,
            "required": f.required,
        }
        if f.choices:
            item["choices"] = [dict(c) for c in f.choices]
        if f.min_age_years is not None:
            item["min_age_years"] = f.min_age_years
        fields.append(item)
    return json.dumps(fields, ensure_ascii=False, indent=2)


def _subtype_values(subtype: SubtypeInfo) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(subtype, k) for k in SUBTYPE_TEXT}
    values["validity_years"] = "" if subtype.validity_years is None else subtype.validity_years
    values["notice_days"] = "" if subtype.notice_days is None else subtype.notice_days
    values["notice_working_days"] = subtype.notice_working_days
    values["extra_fields"] = fields_json(subtype)
    return values


#: Fields a subtype form must not leave empty: (form name, zh label, en label).
SUBTYPE_REQUIRED = (
    ("name_zh", "中文名称", "Chinese name"),
    ("name_en", "英文名称", "English name"),
    ("number_format", "编号格式", "Number format"),
)


def _require_filled(form: dict[str, str], required) -> None:
    for key, zh, en in required:
        if not form.get(key, "").strip():
            raise ServiceError(f"请填写“{zh}”。", f"'{en}' is required.", field=key)


def parse_fields(text: str) -> Any:
    try:
        return json.loads(text.strip() or "[]")
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"扩展字段不是有效的JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}。",
            f"The extra fields are not valid JSON: line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}.",
            field="extra_fields",
        ) from None


async def _lookup(code: str, sub: str | None = None) -> tuple[RegisterInfo, SubtypeInfo | None]:
    catalog = await get_catalog()
    register = catalog.by_code.get(code)
    if register is None:
        raise NotFoundException()
    if sub is None:
        return register, None
    subtype = catalog.subtypes_by_code.get(sub)
    if subtype is None or subtype.register_code != register.code:
        raise NotFoundException()
    return register, subtype


class RegistersController(Controller):
    path = "/admin/registers"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.registers", opt=EDIT)
    async def list_registers(
        self, request: Request, done: FromQuery[str | None] = None
    ) -> Template:
        catalog = await get_catalog()
        counts = {}
        for register in catalog.registers:
            _, counts[register.code] = await entry_service.list_entries(
                EntryFilters(register=register.code), 1, 1
            )
        return page(
            request, "admin/registers.html", catalog=catalog, counts=counts, done=done or ""
        )

    @get("/{code:str}", name="admin.register.edit", opt=EDIT)
    async def register_form(self, request: Request, code: FromPath[str]) -> Template:
        register, _ = await _lookup(code)
        return page(
            request,
            "admin/register_form.html",
            register=register,
            values=_register_values(register),
            errors=FormErrors(),
        )

    @post("/{code:str}", name="admin.register.update", opt=EDIT)
    async def update_register(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        register, _ = await _lookup(code)
        form = await read_form(request)
        values: dict[str, Any] = {k: form.get(k, "") for k in REGISTER_TEXT}
        values["open_for_applications"] = bool(form.get("open_for_applications"))
        try:
            await register_service.update_register(code, dict(values), current_actor(request))
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            return page(
                request,
                "admin/register_form.html",
                status_code=400,
                register=register,
                values=values,
                errors=form_errors(exc, request_lang(request), REGISTER_FORM_FIELDS),
            )
        return Redirect(f"/admin/registers?done={path_part(code)}", status_code=303)

    @get("/{code:str}/subtypes/{subtype:str}", name="admin.subtype.edit", opt=EDIT)
    async def subtype_form(
        self, request: Request, code: FromPath[str], subtype: FromPath[str]
    ) -> Template:
        register, sub = await _lookup(code, subtype)
        assert sub is not None
        return page(
            request,
            "admin/subtype_form.html",
            register=register,
            subtype=sub,
            values=_subtype_values(sub),
            errors=FormErrors(),
        )

    @post("/{code:str}/subtypes/{subtype:str}", name="admin.subtype.update", opt=EDIT)
    async def update_subtype(
        self, request: Request, code: FromPath[str], subtype: FromPath[str]
    ) -> Template | Redirect:
        register, sub = await _lookup(code, subtype)
        assert sub is not None
        form = await read_form(request)
        values: dict[str, Any] = {k: form.get(k, "") for k in SUBTYPE_TEXT}
        values["validity_years"] = form.get("validity_years", "")
        values["notice_days"] = form.get("notice_days", "")
        values["notice_working_days"] = bool(form.get("notice_working_days"))
        values["extra_fields"] = form.get("extra_fields", "")
        try:
            _require_filled(form, SUBTYPE_REQUIRED)
            changes = {k: values[k] for k in SUBTYPE_TEXT}
            changes["validity_years"] = parse_int(
                form, "validity_years", "有效期（年）", "Validity (years)"
            )
            changes["notice_days"] = parse_int(
                form, "notice_days", "公示期（天）", "Public notice (days)"
            )
            changes["notice_working_days"] = values["notice_working_days"]
            changes["extra_fields"] = parse_fields(values["extra_fields"])
            await register_service.update_subtype(sub.code, changes, current_actor(request))
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            return page(
                request,
                "admin/subtype_form.html",
                status_code=400,
                register=register,
                subtype=sub,
                values=values,
                errors=form_errors(exc, request_lang(request), SUBTYPE_FORM_FIELDS),
            )
        return Redirect(f"/admin/registers?done={path_part(sub.code)}", status_code=303)
