"""Registers and subtypes: seeded from the shipped definition file, then data.

The catalogue is small and read on every page, so it is held in memory and
reloaded whenever a register changes through this process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from registry.db import after_every_commit, write_transaction
from registry.services import audit
from registry.services.actors import Actor, as_actor, require
from registry.services.errors import NotFound, ServiceError
from registry.settings import get_settings
from registry.tables import Register, Subtype

DEFINITION_FILE = "registers.json"
SEEDER = Actor.system("registry migrate")
FIELD_TYPES = ("text", "decimal", "integer", "year", "date", "choice")


@dataclass(frozen=True)
class ExtraField:
    key: str
    label_zh: str
    label_en: str
    type: str  # text, decimal, integer, year, date, choice
    required: bool = False
    choices: tuple[dict[str, str], ...] = ()
    min_age_years: int | None = None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class SubtypeInfo:
    id: int
    code: str
    register_code: str
    name_zh: str
    name_en: str
    authority_zh: str
    authority_en: str
    validity_years: int | None
    notice_days: int | None
    notice_working_days: bool
    number_format: str
    extra_fields: tuple[ExtraField, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class RegisterInfo:
    id: int
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
    industries: tuple[dict[str, str], ...]
    subtypes: tuple[SubtypeInfo, ...] = field(default=())

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def industry_name(self, code: str, lang: str) -> str:
        for item in self.industries:
            if item["code"] == code:
                return item["en"] if lang == "en" else item["zh"]
        return code


@dataclass
class Catalog:
    registers: list[RegisterInfo]
    by_code: dict[str, RegisterInfo]
    by_id: dict[int, RegisterInfo]
    subtypes_by_code: dict[str, SubtypeInfo]
    subtypes_by_id: dict[int, SubtypeInfo]


_catalog: Catalog | None = None
_loaded_at = 0.0


def load_definitions() -> dict[str, Any]:
    text = resources.files("registry.data").joinpath(DEFINITION_FILE).read_text("utf-8")
    return json.loads(text)


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def seed_registers() -> int:
    """Insert registers and subtypes that are missing; never overwrite staff edits.

    Returns how many rows were added."""
    definitions = load_definitions()["registers"]
    added = 0
    async with write_transaction():
        for order, reg in enumerate(definitions):
            row = await Register.objects().get(Register.code == reg["code"])
            if row is None:
                row = Register(
                    code=reg["code"],
                    name_zh=reg["name_zh"],
                    name_en=reg["name_en"],
                    description_zh=reg.get("description_zh", ""),
                    description_en=reg.get("description_en", ""),
                    authority_zh=reg["authority_zh"],
                    authority_en=reg["authority_en"],
                    open_for_applications=reg.get("open_for_applications", True),
                    closed_note_zh=reg.get("closed_note_zh", ""),
                    closed_note_en=reg.get("closed_note_en", ""),
                    industries=json.dumps(reg.get("industries", []), ensure_ascii=False),
                    sort_order=order,
                )
                await row.save()
                await audit.record(
                    SEEDER,
                    "register.seed",
                    "register",
                    reg["code"],
                    None,
                    {k: v for k, v in reg.items() if k != "subtypes"},
                )
                added += 1
            for sub_order, sub in enumerate(reg["subtypes"]):
                if await Subtype.exists().where(Subtype.code == sub["code"]):
                    continue
                await Subtype(
                    register=row.id,
                    code=sub["code"],
                    name_zh=sub["name_zh"],
                    name_en=sub["name_en"],
                    authority_zh=sub.get("authority_zh", reg["authority_zh"]),
                    authority_en=sub.get("authority_en", reg["authority_en"]),
                    validity_years=sub.get("validity_years"),
                    notice_days=sub.get("notice_days"),
                    notice_working_days=sub.get("notice_working_days", False),
                    number_format=sub["number_format"],
                    extra_fields=json.dumps(sub.get("extra_fields", []), ensure_ascii=False),
                    sort_order=sub_order,
                ).save()
                await audit.record(SEEDER, "subtype.seed", "subtype", sub["code"], None, sub)
                added += 1
    return added


@after_every_commit
def invalidate_catalog() -> None:
    global _catalog
    _catalog = None


async def get_catalog(must_know: Iterable[tuple[int, int]] = ()) -> Catalog:
    """The catalogue, re-read when another process may have changed it.

    Changes through this process invalidate at once; otherwise it is re-read after the
    same TTL as verification snapshots, or at once when a row names a register or
    subtype id (``must_know``: (register_id, subtype_id) pairs) it does not know yet."""
    global _catalog, _loaded_at
    now = time.monotonic()
    catalog = _catalog
    stale = catalog is None or now - _loaded_at > get_settings().verify_cache_ttl
    if not stale and catalog is not None:
        stale = any(r not in catalog.by_id or s not in catalog.subtypes_by_id for r, s in must_know)
    if stale:
        catalog = await _load_catalog()
        _catalog, _loaded_at = catalog, now
    assert catalog is not None
    return catalog


async def _load_catalog() -> Catalog:
    reg_rows = await Register.select().order_by(Register.sort_order).order_by(Register.id)
    sub_rows = await Subtype.select().order_by(Subtype.sort_order).order_by(Subtype.id)
    code_by_register_id = {r["id"]: r["code"] for r in reg_rows}
    subtypes: list[SubtypeInfo] = []
    for s in sub_rows:
        fields = tuple(
            ExtraField(
                key=f["key"],
                label_zh=f["label_zh"],
                label_en=f["label_en"],
                type=f.get("type", "text"),
                required=bool(f.get("required", False)),
                choices=tuple(f.get("choices", ())),
                min_age_years=f.get("min_age_years"),
            )
            for f in _loads(s["extra_fields"]) or []
        )
        subtypes.append(
            SubtypeInfo(
                id=s["id"],
                code=s["code"],
                register_code=code_by_register_id[s["register"]],
                name_zh=s["name_zh"],
                name_en=s["name_en"],
                authority_zh=s["authority_zh"],
                authority_en=s["authority_en"],
                validity_years=s["validity_years"],
                notice_days=s["notice_days"],
                notice_working_days=bool(s["notice_working_days"]),
                number_format=s["number_format"],
                extra_fields=fields,
            )
        )
    registers = [
        RegisterInfo(
            id=r["id"],
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            description_zh=r["description_zh"],
            description_en=r["description_en"],
            authority_zh=r["authority_zh"],
            authority_en=r["authority_en"],
            open_for_applications=bool(r["open_for_applications"]),
            closed_note_zh=r["closed_note_zh"],
            closed_note_en=r["closed_note_en"],
            industries=tuple(_loads(r["industries"]) or ()),
            subtypes=tuple(s for s in subtypes if s.register_code == r["code"]),
        )
        for r in reg_rows
    ]
    return Catalog(
        registers=registers,
        by_code={r.code: r for r in registers},
        by_id={r.id: r for r in registers},
        subtypes_by_code={s.code: s for s in subtypes},
        subtypes_by_id={s.id: s for s in subtypes},
    )


# --- staff edits ------------------------------------------------------------------------

REGISTER_FIELDS = (
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "authority_zh",
    "authority_en",
    "open_for_applications",
    "closed_note_zh",
    "closed_note_en",
)
SUBTYPE_FIELDS = (
    "name_zh",
    "name_en",
    "authority_zh",
    "authority_en",
    "validity_years",
    "notice_days",
    "notice_working_days",
    "number_format",
    "extra_fields",
)


async def update_register(code: str, changes: dict[str, Any], actor: Actor | str) -> None:
    """Edit a register's names, authority and whether it takes new applications.

    Closing a register only stops new applications: lookups and verification go on."""
    actor = as_actor(actor)
    require(actor, "register.edit")
    unknown = set(changes) - set(REGISTER_FIELDS)
    if unknown:
        raise ServiceError(
            f"不能修改：{', '.join(sorted(unknown))}",
            f"Cannot change: {', '.join(sorted(unknown))}",
        )
    for key in ("name_zh", "name_en", "authority_zh"):
        if key in changes and not str(changes[key]).strip():
            raise ServiceError("名称和机关不能为空。", f"{key} cannot be empty.", field=key)
    async with write_transaction():
        row = await Register.objects().get(Register.code == code)
        if row is None:
            raise NotFound(f"未知的名录：{code}", f"Unknown register {code}")
        before = {k: getattr(row, k) for k in REGISTER_FIELDS}
        for key, value in changes.items():
            setattr(row, key, value.strip() if isinstance(value, str) else bool(value))
        after = {k: getattr(row, k) for k in REGISTER_FIELDS}
        if await audit.record_update(actor, "register.update", "register", code, before, after):
            await row.save()


def validate_extra_fields(fields: Any) -> list[dict[str, Any]]:
    """A subtype's field definitions: unique keys, known types, both labels, choices."""
    if not isinstance(fields, list):
        raise ServiceError(
            "字段定义应为列表。", "extra_fields must be a list.", field="extra_fields"
        )
    seen: set[str] = set()
    clean = []
    for n, f in enumerate(fields, start=1):
        if not isinstance(f, dict):
            raise ServiceError(
                f"第{n}个字段定义无效。", f"Field {n} is not an object.", field="extra_fields"
            )
        key = str(f.get("key", "")).strip()
        if not key.isidentifier() or key in seen:
            raise ServiceError(
                f"第{n}个字段的标识“{key}”无效或重复（须为英文字母、数字和下划线）。",
                f"Field {n}: key '{key}' is missing, invalid or repeated.",
                field="extra_fields",
            )
        if f.get("type", "text") not in FIELD_TYPES:
            raise ServiceError(
                f"第{n}个字段的类型无效，可选：{', '.join(FIELD_TYPES)}",
                f"Field {n}: type must be one of {', '.join(FIELD_TYPES)}",
                field="extra_fields",
            )
        if not str(f.get("label_zh", "")).strip() or not str(f.get("label_en", "")).strip():
            raise ServiceError(
                f"第{n}个字段须有中英文名称。",
                f"Field {n} needs both labels.",
                field="extra_fields",
            )
        if f.get("type") == "choice" and not f.get("choices"):
            raise ServiceError(
                f"第{n}个字段是选项类型，须列出选项。",
                f"Field {n} is a choice and needs choices.",
                field="extra_fields",
            )
        seen.add(key)
        clean.append({**f, "key": key, "required": bool(f.get("required", False))})
    return clean


async def update_subtype(code: str, changes: dict[str, Any], actor: Actor | str) -> None:
    """Edit a subtype's rules: validity term, public-notice period, numbering, fields."""
    actor = as_actor(actor)
    require(actor, "register.edit")
    unknown = set(changes) - set(SUBTYPE_FIELDS)
    if unknown:
        raise ServiceError(
            f"不能修改：{', '.join(sorted(unknown))}",
            f"Cannot change: {', '.join(sorted(unknown))}",
        )
    for key in ("validity_years", "notice_days"):
        value = changes.get(key)
        if value is not None and (not isinstance(value, int) or not 0 < value <= 100):
            raise ServiceError(
                f"{key} 应为1至100之间的整数，或留空表示不设。",
                f"{key} must be a whole number from 1 to 100, or empty.",
                field=key,
            )
    for key in ("name_zh", "name_en", "authority_zh"):
        if key in changes and not str(changes[key] or "").strip():
            raise ServiceError("名称和机关不能为空。", f"{key} cannot be empty.", field=key)
    if "number_format" in changes:
        fmt = str(changes["number_format"]).strip()
        if "{seq" not in fmt and fmt != "{free}":
            raise ServiceError(
                "编号格式无效：须含序号 {seq}（如 JNCP-{year}-{seq:04d}），或为 {free}。",
                "The number format needs {seq} (e.g. JNCP-{year}-{seq:04d}) or must be {free}.",
                field="number_format",
            )
        try:
            fmt.format(year=2025, yy="25", seq=1, county="120101", free="X")
        except (KeyError, IndexError, ValueError):
            raise ServiceError(
                "编号格式无效：可用占位符 {year} {yy} {seq} {county}，"
                "或 {free} 表示由发证机构给号。",
                "Invalid number format: use {year} {yy} {seq} {county}, or {free}.",
                field="number_format",
            ) from None
        changes["number_format"] = fmt
    if "extra_fields" in changes:
        changes["extra_fields"] = json.dumps(
            validate_extra_fields(changes["extra_fields"]), ensure_ascii=False
        )
    async with write_transaction():
        row = await Subtype.objects().get(Subtype.code == code)
        if row is None:
            raise NotFound(f"未知的类别：{code}", f"Unknown subtype {code}")
        before = {k: getattr(row, k) for k in SUBTYPE_FIELDS}
        for key, value in changes.items():
            setattr(row, key, value)
        after = {k: getattr(row, k) for k in SUBTYPE_FIELDS}
        if await audit.record_update(actor, "subtype.update", "subtype", code, before, after):
            await row.save()
