"""Staff pages for entries: list and search, detail, create, edit, the status actions,
and the authorised users of a geographic indication.

Thin controllers: the rules (numbering, typed fields, who may do what, which status
may follow which) are in registry.services; these read the form, call a service and
show its message next to the field it is about.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from admin.auth import current_actor, staff_guard
from admin.forms import (
    FormErrors,
    form_errors,
    parse_date,
    path_part,
    read_form,
    reraise_if_not_form_error,
    with_field,
)
from public_site.rendering import page, query_with, request_lang
from registry import roles, statuses
from registry.db import write_transaction
from registry.services import codes
from registry.services import entries as entry_service
from registry.services.actors import Actor, require
from registry.services.enterprises import get_enterprise_by_uscc, upsert_enterprise
from registry.services.entries import EntryChanges, EntryFilters, EntryRecord, NewEntry
from registry.services.errors import ServiceError
from registry.services.registers import SubtypeInfo, get_catalog
from registry.uscc import check_uscc

PAGE_SIZE = 50
GI_REGISTER = "geographic_indication"

#: The entry form's own fields; typed extra fields are posted as ``x_<key>``.
ENTRY_FIELDS = frozenset(
    {
        "entry_no",
        "name",
        "name_en",
        "enterprise_uscc",
        "enterprise_name",
        "enterprise_district",
        "district_code",
        "industry",
        "valid_from",
        "valid_until",
        "authority_zh",
        "authority_en",
        "description",
        "subtype",
    }
)
USER_FIELDS = frozenset({"u_uscc", "u_name", "u_district", "u_valid_from", "u_valid_until"})
DONE_MESSAGES = ("create", "edit", "user_add")


def _extra_name(key: str) -> str:
    return "x_" + key


def _entry_field_names(subtype: SubtypeInfo) -> set[str]:
    return set(ENTRY_FIELDS) | {_extra_name(f.key) for f in subtype.extra_fields}


def _entry_error_field(subtype: SubtypeInfo, exc: ServiceError) -> ServiceError:
    """Service field names -> form names (extra fields are prefixed)."""
    keys = {f.key for f in subtype.extra_fields}
    if exc.field in keys and exc.field not in ENTRY_FIELDS:
        return with_field(exc, {exc.field: _extra_name(exc.field)})
    return exc


async def _ensure_enterprise(
    values: dict[str, str], actor: Actor, names: tuple[str, str, str] | None = None
) -> str:
    """The enterprise's normalised credit code; creates it when unknown and named.

    ``names``: the form's names for (credit code, enterprise name, district).  Call
    inside the write transaction of the entry (or user) it belongs to, so a refused
    entry leaves no new enterprise behind."""
    uscc_field, name_field, district_field = names or (
        "enterprise_uscc",
        "enterprise_name",
        "enterprise_district",
    )
    raw = values.get(uscc_field, "").strip()
    if not raw:
        raise ServiceError(
            "请填写统一社会信用代码。",
            "The unified social credit code is required.",
            field=uscc_field,
        )
    check = check_uscc(raw)
    if not check.well_formed:
        raise ServiceError(check.message_zh, check.message_en, field=uscc_field)
    if await get_enterprise_by_uscc(check.code) is not None:
        return check.code
    if not values.get(name_field, "").strip():
        raise ServiceError(
            "未找到该统一社会信用代码的企业。如是新企业，请填写企业名称和所在区，保存时一并登记。",
            "No enterprise has this credit code. For a new enterprise, give its name and "
            "district: it is registered together with this record.",
            field=name_field,
        )
    confirmed = actor.signature if values.get("confirm_uscc") else None
    try:
        await upsert_enterprise(
            check.code,
            values.get(name_field, ""),
            values.get(district_field, ""),
            confirmed_by=confirmed,
            actor=actor,
        )
    except ServiceError as exc:
        raise with_field(
            exc, {"uscc": uscc_field, "name": name_field, "district_code": district_field}
        ) from None
    return check.code


def _extra_values(subtype: SubtypeInfo, values: dict[str, str]) -> dict[str, Any]:
    return {f.key: values.get(_extra_name(f.key), "") for f in subtype.extra_fields}


def _values_of(entry: EntryRecord, subtype: SubtypeInfo) -> dict[str, str]:
    """An entry as the edit form shows it."""
    values = {
        "entry_no": entry.entry_no,
        "name": entry.name,
        "name_en": entry.name_en,
        "enterprise_uscc": entry.enterprise_uscc,
        "district_code": entry.district_code,
        "industry": entry.industry,
        "valid_from": entry.valid_from.isoformat(),
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else "",
        "authority_zh": entry.authority_zh,
        "authority_en": entry.authority_en,
        "description": entry.description,
    }
    for f in subtype.extra_fields:
        value = entry.extra.get(f.key)
        values[_extra_name(f.key)] = "" if value is None else str(value)
    return values


def _allowed_actions(role: str, stored_status: str) -> list[statuses.Action]:
    """The actions this role may take on a record in this stored status."""
    return [
        a
        for a in statuses.ACTIONS.values()
        if stored_status in a.from_statuses and roles.allowed(role, f"entry.{a.name}")
    ]


class EntriesController(Controller):
    path = "/admin/entries"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.entries")
    async def list_entries(
        self,
        request: Request,
        register: FromQuery[str | None] = None,
        subtype: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page_no: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
    ) -> Template:
        catalog = await get_catalog()
        filters = EntryFilters(
            register or None, subtype or None, district or None, status or None, None, q or None
        )
        try:
            items, total = await entry_service.list_entries(filters, page_no, PAGE_SIZE)
            error = None
        except ServiceError as exc:
            items, total, error = [], 0, exc.message(request_lang(request))
        return page(
            request,
            "admin/entries_list.html",
            status_code=400 if error else 200,
            catalog=catalog,
            items=items,
            total=total,
            page_no=page_no,
            pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            filters=filters,
            error=error,
            query_with=lambda **kw: query_with(request, **kw),
        )

    # --- create -------------------------------------------------------------------------

    @get("/new", name="admin.entry.new", opt={"permission": "entry.create"})
    async def new_entry(self, request: Request, subtype: FromQuery[str | None] = None) -> Template:
        catalog = await get_catalog()
        sub = catalog.subtypes_by_code.get(subtype or "")
        if sub is None:
            return page(
                request,
                "admin/entry_new.html",
                status_code=404 if subtype else 200,
                catalog=catalog,
                unknown=subtype,
            )
        values = {"valid_from": entry_service.today().isoformat()}
        return await _render_form(request, sub, values, FormErrors(), "create")

    @post("/new", name="admin.entry.create", opt={"permission": "entry.create"})
    async def create_entry(self, request: Request) -> Template | Redirect:
        values = await read_form(request)
        catalog = await get_catalog()
        sub = catalog.subtypes_by_code.get(values.get("subtype", ""))
        if sub is None:
            raise NotFoundException()
        actor = current_actor(request)
        try:
            async with write_transaction():
                uscc = await _ensure_enterprise(values, actor)
                valid_from = parse_date(values, "valid_from", "有效期起始日", "Valid from", True)
                valid_until = parse_date(values, "valid_until", "有效期截止日", "Valid until")
                new = NewEntry(
                    subtype=sub.code,
                    name=values.get("name", ""),
                    name_en=values.get("name_en", ""),
                    enterprise_uscc=uscc,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    entry_no=values.get("entry_no", "").strip() or None,
                    district_code=values.get("district_code", ""),
                    industry=values.get("industry", ""),
                    extra=_extra_values(sub, values),
                    description=values.get("description", "").strip(),
                    authority_zh=values.get("authority_zh", "").strip() or None,
                    authority_en=values.get("authority_en", "").strip() or None,
                )
                try:
                    record = await entry_service.create_entry(new, actor)
                except ServiceError as exc:
                    raise _entry_error_field(sub, exc) from None
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            errors = form_errors(exc, request_lang(request), _entry_field_names(sub))
            return await _render_form(request, sub, values, errors, "create", status_code=400)
        return Redirect(f"/admin/entries/{path_part(record.entry_no)}?done=create", status_code=303)

    # --- edit ---------------------------------------------------------------------------

    @get("/{entry_no:str}/edit", name="admin.entry.edit", opt={"permission": "entry.edit"})
    async def edit_entry(self, request: Request, entry_no: FromPath[str]) -> Template:
        entry = await entry_service.get_entry(entry_no)
        sub = (await get_catalog()).subtypes_by_code[entry.subtype_code]
        return await _render_form(request, sub, _values_of(entry, sub), FormErrors(), "edit", entry)

    @post("/{entry_no:str}/edit", name="admin.entry.update", opt={"permission": "entry.edit"})
    async def update_entry(self, request: Request, entry_no: FromPath[str]) -> Template | Redirect:
        entry = await entry_service.get_entry(entry_no)
        sub = (await get_catalog()).subtypes_by_code[entry.subtype_code]
        values = await read_form(request)
        values["entry_no"] = entry.entry_no
        actor = current_actor(request)
        try:
            async with write_transaction():
                uscc = await _ensure_enterprise(values, actor)
                changes = EntryChanges(
                    name=values.get("name", ""),
                    name_en=values.get("name_en", ""),
                    district_code=values.get("district_code", ""),
                    industry=values.get("industry", ""),
                    valid_from=parse_date(values, "valid_from", "有效期起始日", "Valid from", True),
                    valid_until=parse_date(values, "valid_until", "有效期截止日", "Valid until"),
                    extra=_extra_values(sub, values),
                    description=values.get("description", "").strip(),
                    authority_zh=values.get("authority_zh", ""),
                    authority_en=values.get("authority_en", ""),
                    enterprise_uscc=uscc,
                )
                try:
                    await entry_service.update_entry(entry_no, changes, actor)
                except ServiceError as exc:
                    raise _entry_error_field(sub, exc) from None
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            errors = form_errors(exc, request_lang(request), _entry_field_names(sub))
            return await _render_form(request, sub, values, errors, "edit", entry, 400)
        return Redirect(f"/admin/entries/{path_part(entry_no)}?done=edit", status_code=303)

    # --- detail and status actions ------------------------------------------------------

    @get("/{entry_no:str}", name="admin.entry")
    async def entry_detail(
        self,
        request: Request,
        entry_no: FromPath[str],
        done: FromQuery[str | None] = None,
        user: FromQuery[str | None] = None,
    ) -> Template:
        return await _detail_page(request, entry_no, done=done, done_user=user)

    @post("/{entry_no:str}/status", name="admin.entry.status", opt={"permission": "admin.view"})
    async def change_status(self, request: Request, entry_no: FromPath[str]) -> Template | Redirect:
        values = await read_form(request)
        action = values.get("action", "")
        actor = current_actor(request)
        if action in statuses.ACTIONS:
            require(actor, f"entry.{action}")  # 403 for a role that may not do this
        try:
            deadline = parse_date(values, "deadline", "整改期限", "Deadline")
            await entry_service.change_entry_status(
                entry_no, action, values.get("reason", ""), actor, deadline=deadline
            )
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            return await _detail_page(
                request,
                entry_no,
                status_code=400,
                action_error=exc.message(request_lang(request)),
                action_values=values,
            )
        return Redirect(f"/admin/entries/{path_part(entry_no)}?done={action}", status_code=303)

    # --- GI authorised users ------------------------------------------------------------

    @post(
        "/{entry_no:str}/users",
        name="admin.entry.user.add",
        opt={"permission": "authorised_user.create"},
    )
    async def add_user(self, request: Request, entry_no: FromPath[str]) -> Template | Redirect:
        values = await read_form(request)
        actor = current_actor(request)
        try:
            async with write_transaction():
                uscc = await _ensure_enterprise(values, actor, ("u_uscc", "u_name", "u_district"))
                valid_from = parse_date(values, "u_valid_from", "使用期限起始日", "From", True)
                valid_until = parse_date(values, "u_valid_until", "使用期限截止日", "Until")
                try:
                    await entry_service.add_authorised_user(
                        entry_no, uscc, valid_from, actor, valid_until=valid_until
                    )
                except ServiceError as exc:
                    raise with_field(
                        exc, {"valid_until": "u_valid_until", "enterprise_uscc": "u_uscc"}
                    ) from None
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            return await _detail_page(
                request,
                entry_no,
                status_code=400,
                user_errors=form_errors(exc, request_lang(request), USER_FIELDS),
                user_values=values,
            )
        return Redirect(f"/admin/entries/{path_part(entry_no)}?done=user_add", status_code=303)

    @post(
        "/{entry_no:str}/users/{user_no:str}/status",
        name="admin.entry.user.status",
        opt={"permission": "admin.view"},
    )
    async def change_user_status(
        self, request: Request, entry_no: FromPath[str], user_no: FromPath[str]
    ) -> Template | Redirect:
        detail = await entry_service.get_entry_detail(entry_no)
        if user_no not in {u.user_no for u in detail.authorised_users}:
            raise NotFoundException()
        values = await read_form(request)
        action = values.get("action", "")
        actor = current_actor(request)
        if action in statuses.ACTIONS:
            require(actor, f"entry.{action}")
        try:
            deadline = parse_date(values, "deadline", "整改期限", "Deadline")
            await entry_service.change_authorised_user_status(
                user_no, action, values.get("reason", ""), actor, deadline=deadline
            )
        except ServiceError as exc:
            reraise_if_not_form_error(exc)
            return await _detail_page(
                request,
                entry_no,
                status_code=400,
                user_action_errors={user_no: exc.message(request_lang(request))},
                user_action_values={user_no: values},
            )
        return Redirect(
            f"/admin/entries/{path_part(entry_no)}?done={action}&user={path_part(user_no)}",
            status_code=303,
        )


async def _render_form(
    request: Request,
    sub: SubtypeInfo,
    values: dict[str, str],
    errors: FormErrors,
    mode: str,
    entry: EntryRecord | None = None,
    status_code: int = 200,
) -> Template:
    catalog = await get_catalog()
    register = catalog.by_code[sub.register_code]
    return page(
        request,
        "admin/entry_form.html",
        status_code=status_code,
        register=register,
        subtype=sub,
        values=values,
        errors=errors,
        mode=mode,
        entry=entry,
        free_number="{free}" in sub.number_format,
    )


async def _detail_page(
    request: Request,
    entry_no: str,
    status_code: int = 200,
    done: str | None = None,
    done_user: str | None = None,
    action_error: str | None = None,
    action_values: dict[str, str] | None = None,
    user_errors: FormErrors | None = None,
    user_values: dict[str, str] | None = None,
    user_action_errors: dict[str, str] | None = None,
    user_action_values: dict[str, dict[str, str]] | None = None,
) -> Template:
    detail = await entry_service.get_entry_detail(entry_no)
    catalog = await get_catalog()
    entry = detail.entry
    role = request.state.staff.role
    today = entry_service.today()
    done_label = None
    if done_user not in {u.user_no for u in detail.authorised_users}:
        done_user = None  # only a user of this entry: the message is built from the link
    if done in statuses.ACTIONS:
        done_label = statuses.ACTIONS[done]
    elif done not in DONE_MESSAGES:
        done = None
    return page(
        request,
        "admin/entry_detail.html",
        status_code=status_code,
        detail=detail,
        entry=entry,
        register=catalog.by_code[entry.register_code],
        subtype=catalog.subtypes_by_code[entry.subtype_code],
        token=entry.token,
        codes=codes,
        is_gi=entry.register_code == GI_REGISTER,
        actions=_allowed_actions(role, entry.stored_status),
        user_actions={
            u.user_no: _allowed_actions(role, u.stored_status) for u in detail.authorised_users
        },
        latest_deadline=statuses.add_months(today, statuses.MAX_CONDITION_MONTHS).isoformat(),
        today=today.isoformat(),
        signer=request.state.staff.actor().signature,
        done=done,
        done_label=done_label,
        done_user=done_user,
        action_error=action_error,
        action_values=action_values or {},
        user_errors=user_errors or FormErrors(),
        user_values=user_values or {"u_valid_from": today.isoformat()},
        user_action_errors=user_action_errors or {},
        user_action_values=user_action_values or {},
    )
