"""Entries (listings), GI authorised users and their status history.

Every rule about entries lives here, shared by the API, the pages, the CLI and the
demo loader: numbering, typed extra fields, the status actions and their history.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from registry import statuses
from registry.db import is_postgres, write_transaction
from registry.districts import DISTRICTS_BY_CODE
from registry.services import audit
from registry.services.actors import Actor, as_actor, require
from registry.services.codes import token_for_authorised_user, token_for_entry
from registry.services.errors import Conflict, NotFound, ServiceError
from registry.services.registers import Catalog, RegisterInfo, SubtypeInfo, get_catalog
from registry.tables import AuthorisedUser, Enterprise, Entry, StatusChange
from registry.uscc import normalize_uscc

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def today() -> dt.date:
    # China Standard Time has no daylight saving: the registry's "today" is UTC+8.
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


# --- read models ------------------------------------------------------------------------


@dataclass
class EntryRecord:
    id: int
    entry_no: str
    name: str
    name_en: str
    register_code: str
    subtype_code: str
    enterprise_name: str
    enterprise_name_en: str
    enterprise_uscc: str
    district_code: str
    industry: str
    authority_zh: str
    authority_en: str
    valid_from: dt.date
    valid_until: dt.date | None
    stored_status: str
    status: str  # effective status today (expired is computed)
    status_reason: str
    condition_deadline: dt.date | None
    extra: dict[str, Any]
    description: str
    is_demo: bool
    updated_at: dt.datetime

    @property
    def token(self) -> str:
        return token_for_entry(self.id)


@dataclass
class HistoryRecord:
    changed_at: dt.datetime
    from_status: str | None
    to_status: str
    reason: str
    signed_by: str
    user_no: str | None = None


@dataclass
class AuthorisedUserRecord:
    id: int
    user_no: str
    entry_id: int
    enterprise_name: str
    enterprise_name_en: str
    enterprise_uscc: str
    valid_from: dt.date
    valid_until: dt.date | None
    stored_status: str
    status: str
    status_reason: str
    condition_deadline: dt.date | None

    @property
    def token(self) -> str:
        return token_for_authorised_user(self.id)


@dataclass
class EntryDetail:
    entry: EntryRecord
    history: list[HistoryRecord] = field(default_factory=list)
    authorised_users: list[AuthorisedUserRecord] = field(default_factory=list)


@dataclass
class EntryFilters:
    register: str | None = None
    subtype: str | None = None
    district: str | None = None
    status: str | None = None
    industry: str | None = None
    q: str | None = None


_ENTRY_COLUMNS = (
    Entry.id,
    Entry.entry_no,
    Entry.name,
    Entry.name_en,
    Entry.register,
    Entry.subtype,
    Entry.district_code,
    Entry.industry,
    Entry.authority_zh,
    Entry.authority_en,
    Entry.valid_from,
    Entry.valid_until,
    Entry.status,
    Entry.status_reason,
    Entry.condition_deadline,
    Entry.extra,
    Entry.description,
    Entry.is_demo,
    Entry.updated_at,
    Entry.enterprise.name.as_alias("enterprise_name"),
    Entry.enterprise.name_en.as_alias("enterprise_name_en"),
    Entry.enterprise.uscc.as_alias("enterprise_uscc"),
)


def _entry_record(row: dict[str, Any], catalog: Catalog, on: dt.date) -> EntryRecord:
    return EntryRecord(
        id=row["id"],
        entry_no=row["entry_no"],
        name=row["name"],
        name_en=row["name_en"],
        register_code=catalog.by_id[row["register"]].code,
        subtype_code=catalog.subtypes_by_id[row["subtype"]].code,
        enterprise_name=row["enterprise_name"],
        enterprise_name_en=row["enterprise_name_en"] or "",
        enterprise_uscc=row["enterprise_uscc"],
        district_code=row["district_code"],
        industry=row["industry"],
        authority_zh=row["authority_zh"],
        authority_en=row["authority_en"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        stored_status=row["status"],
        status=statuses.effective_status(row["status"], row["valid_until"], on),
        status_reason=row["status_reason"],
        condition_deadline=row["condition_deadline"],
        extra=_loads(row["extra"]),
        description=row["description"],
        is_demo=bool(row["is_demo"]),
        updated_at=row["updated_at"],
    )


def _ids(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r["register"], r["subtype"]) for r in rows]


def select_entries():
    """A select of the columns ``records_from_rows`` needs, for other services' queries."""
    return Entry.select(*_ENTRY_COLUMNS)


async def records_from_rows(rows: list[dict[str, Any]]) -> list[EntryRecord]:
    """Rows from ``select_entries()`` as EntryRecords (effective status as of today)."""
    catalog = await get_catalog(_ids(rows))
    on = today()
    return [_entry_record(r, catalog, on) for r in rows]


def _status_condition(status: str, on: dt.date):
    not_past = Entry.valid_until.is_null() | (Entry.valid_until >= on)
    if status in statuses.VALID_STATUSES:
        return (Entry.status == status) & not_past
    if status == statuses.EXPIRED:
        return Entry.status.is_in(list(statuses.VALID_STATUSES)) & (Entry.valid_until < on)
    return Entry.status == status


def _contains(column, pattern: str):
    """Case-insensitive substring match on both databases (SQLite's LIKE already is)."""
    return column.ilike(pattern) if is_postgres() else column.like(pattern)


async def validate_filters(filters: EntryFilters) -> None:
    """Unknown filter values are a caller's mistake: say which values exist."""
    catalog = await get_catalog()
    if filters.register and filters.register not in catalog.by_code:
        raise ServiceError(
            f"未知的名录：{filters.register}。可选：{', '.join(catalog.by_code)}",
            f"Unknown register '{filters.register}'. Valid values: {', '.join(catalog.by_code)}",
            field="register",
        )
    if filters.subtype:
        sub = catalog.subtypes_by_code.get(filters.subtype)
        if sub is None or (filters.register and sub.register_code != filters.register):
            valid = [
                s.code
                for s in catalog.subtypes_by_code.values()
                if not filters.register or s.register_code == filters.register
            ]
            raise ServiceError(
                f"未知的类别：{filters.subtype}。可选：{', '.join(valid)}",
                f"Unknown subtype '{filters.subtype}'. Valid values: {', '.join(valid)}",
                field="subtype",
            )
    if filters.district and filters.district not in DISTRICTS_BY_CODE:
        raise ServiceError(
            f"未知的区代码：{filters.district}。应为120101至120119之间的行政区划代码。",
            f"Unknown district '{filters.district}'. Use a GB/T 2260 code such as 120101.",
            field="district",
        )
    if filters.status and filters.status not in statuses.ALL_STATUSES:
        raise ServiceError(
            f"未知的状态：{filters.status}。可选：{', '.join(statuses.ALL_STATUSES)}",
            f"Unknown status '{filters.status}'. Valid values: {', '.join(statuses.ALL_STATUSES)}",
            field="status",
        )


async def list_entries(
    filters: EntryFilters, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
) -> tuple[list[EntryRecord], int]:
    await validate_filters(filters)
    if page < 1:
        raise ServiceError("页码须从1开始。", "page starts at 1.", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ServiceError(
            f"每页条数须在1到{MAX_PAGE_SIZE}之间。",
            f"page_size must be between 1 and {MAX_PAGE_SIZE}.",
            field="page_size",
        )
    catalog = await get_catalog()
    on = today()
    conditions = []
    if filters.register:
        conditions.append(Entry.register == catalog.by_code[filters.register].id)
    if filters.subtype:
        conditions.append(Entry.subtype == catalog.subtypes_by_code[filters.subtype].id)
    if filters.district:
        conditions.append(Entry.district_code == filters.district)
    if filters.industry:
        conditions.append(Entry.industry == filters.industry)
    if filters.status:
        conditions.append(_status_condition(filters.status, on))
    q = (filters.q or "").strip()
    if q:
        # Substring match for now; a real index comes with the search work.  LIKE
        # wildcards typed by a user are dropped; nothing left means nothing matches.
        term = q.replace("%", "").replace("_", "").strip()
        pattern = "%" + term + "%"
        upper = pattern.upper()  # numbers and credit codes are stored upper case
        conditions.append(
            (
                _contains(Entry.name, pattern)
                | _contains(Entry.name_en, pattern)
                | Entry.entry_no.like(upper)
                | _contains(Entry.enterprise.name, pattern)
                | Entry.enterprise.uscc.like(upper)
            )
            if term
            else (Entry.id < 0)
        )
    query = Entry.select(*_ENTRY_COLUMNS)
    count_query = Entry.count()
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    rows = await (
        query.order_by(Entry.register)
        .order_by(Entry.entry_no)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    total = await count_query
    catalog = await get_catalog(_ids(rows))
    return [_entry_record(r, catalog, on) for r in rows], total


async def get_entry(entry_no: str) -> EntryRecord:
    rows = await Entry.select(*_ENTRY_COLUMNS).where(Entry.entry_no == entry_no)
    if not rows:
        raise NotFound(f"未找到编号为 {entry_no} 的登记。", f"No entry numbered {entry_no}.")
    return _entry_record(rows[0], await get_catalog(_ids(rows)), today())


async def get_entries_by_number(numbers: list[str]) -> dict[str, EntryRecord]:
    """The stored entries among these certificate numbers, by number (bulk, for imports)."""
    found: dict[str, EntryRecord] = {}
    on = today()
    unique = sorted(set(numbers))
    for start in range(0, len(unique), 500):
        rows = await Entry.select(*_ENTRY_COLUMNS).where(
            Entry.entry_no.is_in(unique[start : start + 500])
        )
        if rows:
            catalog = await get_catalog(_ids(rows))
            found.update((r["entry_no"], _entry_record(r, catalog, on)) for r in rows)
    return found


async def get_entry_by_id(entry_id: int) -> EntryRecord | None:
    rows = await Entry.select(*_ENTRY_COLUMNS).where(Entry.id == entry_id)
    return _entry_record(rows[0], await get_catalog(_ids(rows)), today()) if rows else None


async def load_history(entry_id: int) -> list[HistoryRecord]:
    rows = await (
        StatusChange.select(
            StatusChange.changed_at,
            StatusChange.from_status,
            StatusChange.to_status,
            StatusChange.reason,
            StatusChange.signed_by,
            StatusChange.authorised_user.user_no.as_alias("user_no"),
        )
        .where(StatusChange.entry == entry_id)
        .order_by(StatusChange.changed_at, ascending=False)
        .order_by(StatusChange.id, ascending=False)
    )
    return [HistoryRecord(**r) for r in rows]


_USER_COLUMNS = (
    AuthorisedUser.id,
    AuthorisedUser.user_no,
    AuthorisedUser.entry,
    AuthorisedUser.valid_from,
    AuthorisedUser.valid_until,
    AuthorisedUser.status,
    AuthorisedUser.status_reason,
    AuthorisedUser.condition_deadline,
    AuthorisedUser.enterprise.name.as_alias("enterprise_name"),
    AuthorisedUser.enterprise.name_en.as_alias("enterprise_name_en"),
    AuthorisedUser.enterprise.uscc.as_alias("enterprise_uscc"),
)


def _user_record(row: dict[str, Any], on: dt.date) -> AuthorisedUserRecord:
    return AuthorisedUserRecord(
        id=row["id"],
        user_no=row["user_no"],
        entry_id=row["entry"],
        enterprise_name=row["enterprise_name"],
        enterprise_name_en=row["enterprise_name_en"] or "",
        enterprise_uscc=row["enterprise_uscc"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        stored_status=row["status"],
        status=statuses.effective_status(row["status"], row["valid_until"], on),
        status_reason=row["status_reason"],
        condition_deadline=row["condition_deadline"],
    )


async def load_authorised_users(entry_id: int) -> list[AuthorisedUserRecord]:
    rows = await (
        AuthorisedUser.select(*_USER_COLUMNS)
        .where(AuthorisedUser.entry == entry_id)
        .order_by(AuthorisedUser.user_no)
    )
    on = today()
    return [_user_record(r, on) for r in rows]


async def get_authorised_user_by_id(user_id: int) -> AuthorisedUserRecord | None:
    rows = await AuthorisedUser.select(*_USER_COLUMNS).where(AuthorisedUser.id == user_id)
    return _user_record(rows[0], today()) if rows else None


async def get_entry_detail(entry_no: str) -> EntryDetail:
    entry = await get_entry(entry_no)
    return EntryDetail(
        entry=entry,
        history=await load_history(entry.id),
        authorised_users=await load_authorised_users(entry.id),
    )


# --- writes -----------------------------------------------------------------------------


@dataclass
class NewEntry:
    subtype: str
    name: str
    enterprise_uscc: str
    valid_from: dt.date
    entry_no: str | None = None  # required when the subtype's numbers are free strings
    name_en: str = ""
    district_code: str = ""
    industry: str = ""
    valid_until: dt.date | None = None  # default: valid_from + the subtype's term
    extra: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    authority_zh: str | None = None
    authority_en: str | None = None
    is_demo: bool = False


def validate_extra(subtype: SubtypeInfo, values: dict[str, Any], on: dt.date) -> dict[str, Any]:
    """Check and convert the subtype's typed extra fields; unknown keys are refused."""
    known = {f.key: f for f in subtype.extra_fields}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ServiceError(
            f"“{subtype.name_zh}”没有这些字段：{', '.join(unknown)}。",
            f"{subtype.name_en} has no fields named: {', '.join(unknown)}.",
            field=unknown[0],
        )
    clean: dict[str, Any] = {}
    for f in subtype.extra_fields:
        raw = values.get(f.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if f.required:
                raise ServiceError(
                    f"请填写“{f.label_zh}”。", f"'{f.label_en}' is required.", field=f.key
                )
            continue
        clean[f.key] = _convert_field(f, raw, on)
    return clean


def _convert_field(f, raw: Any, on: dt.date) -> Any:
    text = str(raw).strip()
    if f.type == "text":
        return text
    if f.type == "decimal":
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ServiceError(
                f"“{f.label_zh}”应为数字，例如 1200.5。",
                f"'{f.label_en}' must be a number, for example 1200.5.",
                field=f.key,
            ) from None
        if value < 0:
            raise ServiceError(
                f"“{f.label_zh}”不能为负数。", f"'{f.label_en}' cannot be negative.", field=f.key
            )
        return str(value)
    if f.type in ("integer", "year"):
        if not text.lstrip("-").isdigit():
            raise ServiceError(
                f"“{f.label_zh}”应为整数。", f"'{f.label_en}' must be a whole number.", field=f.key
            )
        value = int(text)
        if f.type == "year":
            if not 1000 <= value <= on.year:
                raise ServiceError(
                    f"“{f.label_zh}”应为不晚于{on.year}年的四位年份。",
                    f"'{f.label_en}' must be a 4-digit year no later than {on.year}.",
                    field=f.key,
                )
            if f.min_age_years and on.year - value < f.min_age_years:
                raise ServiceError(
                    f"品牌创立须满{f.min_age_years}年（不晚于{on.year - f.min_age_years}年）。",
                    f"The brand must be at least {f.min_age_years} years old "
                    f"(founded in {on.year - f.min_age_years} or earlier).",
                    field=f.key,
                )
        return value
    if f.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ServiceError(
                f"“{f.label_zh}”应为日期，格式 2025-01-31。",
                f"'{f.label_en}' must be a date like 2025-01-31.",
                field=f.key,
            ) from None
    if f.type == "choice":
        values = [c["value"] for c in f.choices]
        if text not in values:
            raise ServiceError(
                f"“{f.label_zh}”只能选：{', '.join(c['zh'] for c in f.choices)}。",
                f"'{f.label_en}' must be one of: {', '.join(values)}.",
                field=f.key,
            )
        return text
    return text


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the anniversary in a common year is 1 March
        return dt.date(day.year + years, 3, 1)


async def _next_number(subtype: SubtypeInfo, valid_from: dt.date, district_code: str) -> str:
    """The next free number; ``{seq}`` restarts each year when the format shows the year."""
    same_series = Entry.count().where(Entry.subtype == subtype.id)
    if "{year" in subtype.number_format or "{yy" in subtype.number_format:
        year = valid_from.year
        same_series = same_series.where(
            (Entry.valid_from >= dt.date(year, 1, 1)) & (Entry.valid_from < dt.date(year + 1, 1, 1))
        )
    seq = await same_series + 1
    while True:
        number = subtype.number_format.format(
            year=valid_from.year,
            yy=f"{valid_from.year % 100:02d}",
            seq=seq,
            county=district_code or "120000",
        )
        if not await Entry.exists().where(Entry.entry_no == number):
            return number
        seq += 1


def _validate_common(
    register: RegisterInfo,
    subtype: SubtypeInfo,
    name: str,
    district_code: str,
    industry: str,
    extra: dict[str, Any],
    valid_from: dt.date,
    valid_until: dt.date | None,
) -> tuple[dict[str, Any], dt.date | None]:
    """Rules shared by create, edit and import; returns (clean extra, valid_until)."""
    if not name.strip():
        raise ServiceError("请填写品牌或产品名称。", "The name is required.", field="name")
    if district_code and district_code not in DISTRICTS_BY_CODE:
        raise ServiceError(
            f"未知的区代码：{district_code}。应为120101至120119之间的行政区划代码。",
            f"Unknown district {district_code}. Use a GB/T 2260 code such as 120101.",
            field="district_code",
        )
    industry_codes = {i["code"] for i in register.industries}
    if industry and industry not in industry_codes:
        raise ServiceError(
            f"未知的行业类别：{industry}。可选：{', '.join(sorted(industry_codes))}",
            f"Unknown industry {industry}. Valid: {', '.join(sorted(industry_codes))}",
            field="industry",
        )
    clean = validate_extra(subtype, extra, today())
    if valid_until is None and subtype.validity_years:
        valid_until = add_years(valid_from, subtype.validity_years) - dt.timedelta(days=1)
    if valid_until is not None and valid_until < valid_from:
        raise ServiceError(
            "有效期截止日不能早于起始日。",
            "valid_until cannot be before valid_from.",
            field="valid_until",
        )
    return clean, valid_until


def validate_new_entry(new: NewEntry, catalog: Catalog) -> tuple[dict[str, Any], dt.date | None]:
    """create_entry's checks that need no database, without writing anything.

    Subtype, name, district, industry, typed extra fields, dates and the certificate
    number rule; the spreadsheet import previews a whole file with it.  Returns (clean
    extra, valid_until); raises ServiceError exactly as create_entry would."""
    subtype = catalog.subtypes_by_code.get(new.subtype)
    if subtype is None:
        raise ServiceError(
            f"未知的类别：{new.subtype}。", f"Unknown subtype {new.subtype}.", field="subtype"
        )
    register = catalog.by_code[subtype.register_code]
    extra, valid_until = _validate_common(
        register,
        subtype,
        new.name,
        new.district_code,
        new.industry,
        new.extra,
        new.valid_from,
        new.valid_until,
    )
    if "{free}" in subtype.number_format and not new.entry_no:
        raise ServiceError(
            "该类别的证书编号由发证机构给出，请填写证书编号。",
            "This subtype's certificate numbers come from the issuing body: give entry_no.",
            field="entry_no",
        )
    return extra, valid_until


def audit_view(row: Entry) -> dict[str, Any]:
    """The fields an audit event records for an entry (before/after)."""
    return {
        "entry_no": row.entry_no,
        "name": row.name,
        "name_en": row.name_en,
        "subtype": row.subtype,
        "enterprise": row.enterprise,
        "district_code": row.district_code,
        "industry": row.industry,
        "authority_zh": row.authority_zh,
        "authority_en": row.authority_en,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "status": row.status,
        "status_reason": row.status_reason,
        "condition_deadline": row.condition_deadline,
        "extra": _loads(row.extra),
        "description": row.description,
    }


async def create_entry(new: NewEntry, signed_by: Actor | str, reason: str = "") -> EntryRecord:
    """Validate and create an active entry with its first history row, all or nothing."""
    actor = as_actor(signed_by)
    require(actor, "entry.create")
    catalog = await get_catalog()
    extra, valid_until = validate_new_entry(new, catalog)
    subtype = catalog.subtypes_by_code[new.subtype]
    register = catalog.by_code[subtype.register_code]
    new.enterprise_uscc = normalize_uscc(new.enterprise_uscc)
    enterprise = await Enterprise.objects().get(Enterprise.uscc == new.enterprise_uscc)
    if enterprise is None:
        raise ServiceError(
            f"未找到统一社会信用代码为 {new.enterprise_uscc} 的企业，请先登记企业。",
            f"No enterprise with credit code {new.enterprise_uscc}; register it first.",
            field="enterprise_uscc",
        )
    async with write_transaction():
        entry_no = new.entry_no or await _next_number(subtype, new.valid_from, new.district_code)
        if await Entry.exists().where(Entry.entry_no == entry_no):
            raise Conflict(
                f"编号 {entry_no} 已存在。",
                f"Entry number {entry_no} already exists.",
                field="entry_no",
            )
        row = Entry(
            entry_no=entry_no,
            register=register.id,
            subtype=subtype.id,
            name=new.name.strip(),
            name_en=new.name_en.strip(),
            enterprise=enterprise.id,
            district_code=new.district_code or enterprise.district_code,
            industry=new.industry,
            authority_zh=new.authority_zh or subtype.authority_zh,
            authority_en=new.authority_en or subtype.authority_en,
            valid_from=new.valid_from,
            valid_until=valid_until,
            status=statuses.ACTIVE,
            extra=json.dumps(extra, ensure_ascii=False),
            description=new.description,
            is_demo=new.is_demo,
        )
        await row.save()
        await StatusChange(
            entry=row.id,
            from_status=None,
            to_status=statuses.ACTIVE,
            reason=reason or "认定登记",
            signed_by=actor.signature,
            changed_at=_at(new.valid_from),
        ).save()
        await audit.record(actor, "entry.create", "entry", entry_no, None, audit_view(row))
    return await get_entry(entry_no)


@dataclass
class EntryChanges:
    """What staff may edit on an existing entry (status goes through the actions)."""

    name: str
    name_en: str
    district_code: str
    industry: str
    valid_from: dt.date
    valid_until: dt.date | None
    extra: dict[str, Any]
    description: str
    authority_zh: str
    authority_en: str
    enterprise_uscc: str | None = None


async def update_entry(entry_no: str, changes: EntryChanges, signed_by: Actor | str) -> EntryRecord:
    """Edit an entry's details with the same rules as creation; nothing is written on error."""
    actor = as_actor(signed_by)
    require(actor, "entry.edit")
    catalog = await get_catalog()
    async with write_transaction():
        row = await Entry.objects().get(Entry.entry_no == entry_no)
        if row is None:
            raise NotFound(f"未找到编号为 {entry_no} 的登记。", f"No entry numbered {entry_no}.")
        subtype = catalog.subtypes_by_id[row.subtype]
        register = catalog.by_code[subtype.register_code]
        # An explicit end date stays; an empty one means "the subtype's term" again.
        extra, valid_until = _validate_common(
            register,
            subtype,
            changes.name,
            changes.district_code,
            changes.industry,
            changes.extra,
            changes.valid_from,
            changes.valid_until,
        )
        before = audit_view(row)
        if changes.enterprise_uscc:
            changes.enterprise_uscc = normalize_uscc(changes.enterprise_uscc)
            enterprise = await Enterprise.objects().get(Enterprise.uscc == changes.enterprise_uscc)
            if enterprise is None:
                raise ServiceError(
                    f"未找到统一社会信用代码为 {changes.enterprise_uscc} 的企业。",
                    f"No enterprise with credit code {changes.enterprise_uscc}.",
                    field="enterprise_uscc",
                )
            row.enterprise = enterprise.id
        row.name = changes.name.strip()
        row.name_en = changes.name_en.strip()
        row.district_code = changes.district_code
        row.industry = changes.industry
        row.valid_from = changes.valid_from
        row.valid_until = valid_until
        row.extra = json.dumps(extra, ensure_ascii=False)
        row.description = changes.description
        row.authority_zh = changes.authority_zh.strip() or subtype.authority_zh
        row.authority_en = changes.authority_en.strip() or subtype.authority_en
        after = audit_view(row)
        if await audit.record_update(actor, "entry.update", "entry", entry_no, before, after):
            row.updated_at = dt.datetime.now(dt.UTC)
            await row.save()
    return await get_entry(entry_no)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def change_entry_status(
    entry_no: str,
    action: str,
    reason: str,
    signed_by: Actor | str,
    deadline: dt.date | None = None,
    on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> EntryRecord:
    """Apply a status action (suspend, revoke, ...) with its history row, all or nothing."""
    actor = _actor_for(signed_by, action)
    async with write_transaction():
        row = await Entry.objects().get(Entry.entry_no == entry_no)
        if row is None:
            raise NotFound(f"未找到编号为 {entry_no} 的登记。", f"No entry numbered {entry_no}.")
        await _apply_action(row, row.id, None, action, reason, actor, deadline, on, at)
    return await get_entry(entry_no)


async def _apply_action(
    row: Entry | AuthorisedUser,
    entry_id: int,
    user_id: int | None,
    action: str,
    reason: str,
    actor: Actor,
    deadline: dt.date | None,
    on: dt.date | None,
    at: dt.datetime | None,
) -> None:
    """The one place where a status changes: check the rule, update, write history."""
    try:
        rule = statuses.check_transition(action, row.status, reason, on or today(), deadline)
    except statuses.StatusRuleError as exc:
        raise ServiceError(exc.zh, exc.en, field="action") from None
    when = at or dt.datetime.now(dt.UTC)
    before = {
        "status": row.status,
        "status_reason": row.status_reason,
        "condition_deadline": row.condition_deadline,
    }
    row.status = rule.to_status
    row.status_reason = reason.strip()
    row.condition_deadline = deadline if rule.needs_deadline else None
    row.updated_at = when
    await row.save()
    await StatusChange(
        entry=entry_id,
        authorised_user=user_id,
        from_status=before["status"],
        to_status=rule.to_status,
        reason=reason.strip(),
        signed_by=actor.signature,
        changed_at=when,
    ).save()
    after = {
        "status": row.status,
        "status_reason": row.status_reason,
        "condition_deadline": row.condition_deadline,
    }
    if isinstance(row, AuthorisedUser):
        await audit.record(
            actor, f"authorised_user.{action}", "authorised_user", row.user_no, before, after
        )
    else:
        await audit.record(actor, f"entry.{action}", "entry", row.entry_no, before, after)


def _actor_for(signed_by: Actor | str, action: str) -> Actor:
    """The signer, checked against the roles allowed to take this action."""
    if isinstance(signed_by, str) and not signed_by.strip():
        raise ServiceError("须注明签发人。", "The signer is required.", field="signed_by")
    if action not in statuses.ACTIONS:
        raise ServiceError(f"未知操作：{action}", f"Unknown action: {action}", field="action")
    actor = as_actor(signed_by)
    require(actor, f"entry.{action}")
    return actor


async def add_authorised_user(
    entry_no: str,
    enterprise_uscc: str,
    valid_from: dt.date,
    signed_by: Actor | str,
    valid_until: dt.date | None = None,
    user_no: str | None = None,
) -> AuthorisedUserRecord:
    actor = as_actor(signed_by)
    require(actor, "authorised_user.create")
    if valid_until is not None and valid_until < valid_from:
        raise ServiceError(
            "使用期限截止日不能早于起始日。",
            "valid_until cannot be before valid_from.",
            field="valid_until",
        )
    catalog = await get_catalog()
    async with write_transaction():
        entry = await Entry.objects().get(Entry.entry_no == entry_no)
        if entry is None:
            raise NotFound(f"未找到编号为 {entry_no} 的登记。", f"No entry numbered {entry_no}.")
        if catalog.by_id[entry.register].code != "geographic_indication":
            raise ServiceError(
                "只有地理标志可以核准使用人。", "Only geographic indications have authorised users."
            )
        enterprise_uscc = normalize_uscc(enterprise_uscc)
        enterprise = await Enterprise.objects().get(Enterprise.uscc == enterprise_uscc)
        if enterprise is None:
            raise ServiceError(
                f"未找到统一社会信用代码为 {enterprise_uscc} 的企业。",
                f"No enterprise with credit code {enterprise_uscc}.",
                field="enterprise_uscc",
            )
        if await AuthorisedUser.exists().where(
            (AuthorisedUser.entry == entry.id) & (AuthorisedUser.enterprise == enterprise.id)
        ):
            raise Conflict(
                "该企业已是此地理标志的使用人。", "This enterprise is already an authorised user."
            )
        if user_no is None:
            count = await AuthorisedUser.count().where(AuthorisedUser.entry == entry.id)
            user_no = f"{entry.entry_no}-U{count + 1:03d}"
        row = AuthorisedUser(
            entry=entry.id,
            enterprise=enterprise.id,
            user_no=user_no,
            valid_from=valid_from,
            valid_until=valid_until,
            status=statuses.ACTIVE,
        )
        await row.save()
        await StatusChange(
            entry=entry.id,
            authorised_user=row.id,
            from_status=None,
            to_status=statuses.ACTIVE,
            reason="核准使用地理标志",
            signed_by=actor.signature,
            changed_at=_at(valid_from),
        ).save()
        await audit.record(
            actor,
            "authorised_user.create",
            "authorised_user",
            user_no,
            None,
            {
                "entry_no": entry_no,
                "enterprise_uscc": enterprise_uscc,
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
        )
    user = await get_authorised_user_by_id(row.id)
    assert user is not None
    return user


async def change_authorised_user_status(
    user_no: str,
    action: str,
    reason: str,
    signed_by: Actor | str,
    deadline: dt.date | None = None,
    on: dt.date | None = None,
) -> AuthorisedUserRecord:
    actor = _actor_for(signed_by, action)
    async with write_transaction():
        row = await AuthorisedUser.objects().get(AuthorisedUser.user_no == user_no)
        if row is None:
            raise NotFound(f"未找到使用人 {user_no}。", f"No authorised user {user_no}.")
        await _apply_action(row, row.entry, row.id, action, reason, actor, deadline, on, None)
    user = await get_authorised_user_by_id(row.id)
    assert user is not None
    return user
