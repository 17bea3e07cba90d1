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

from registry.db import write_transaction
from registry.settings import get_settings
from registry.tables import Register, Subtype

DEFINITION_FILE = "registers.json"


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
                added += 1
    invalidate_catalog()
    return added


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
