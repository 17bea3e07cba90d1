"""Enterprises, keyed by unified social credit code."""

from __future__ import annotations

from registry.db import write_transaction
from registry.districts import DISTRICTS_BY_CODE
from registry.services import audit
from registry.services.actors import Actor, as_actor, require
from registry.services.errors import ServiceError
from registry.tables import Enterprise
from registry.uscc import check_uscc


async def upsert_enterprise(
    uscc: str,
    name: str,
    district_code: str = "",
    address: str = "",
    name_en: str = "",
    confirmed_by: str | None = None,
    is_demo: bool = False,
    actor: Actor | str = "system",
) -> Enterprise:
    """Create the enterprise, or update its details if the code is already known.

    A well-formed code with a wrong check character (early pilot regions) is kept
    only when a staff member confirms it (``confirmed_by``)."""
    actor = as_actor(actor)
    require(actor, "enterprise.edit")
    if confirmed_by:
        require(actor, "enterprise.confirm_uscc")
    check = check_uscc(uscc)
    if not check.well_formed:
        raise ServiceError(check.message_zh, check.message_en, field="uscc")
    if not check.checksum_ok and not confirmed_by:
        raise ServiceError(
            check.message_zh + "如已核实营业执照，请由工作人员确认后保存。",
            check.message_en + " If the business licence has been checked, a staff member "
            "can confirm it.",
            field="uscc",
        )
    if not name.strip():
        raise ServiceError("请填写企业名称。", "The enterprise name is required.", field="name")
    if district_code and district_code not in DISTRICTS_BY_CODE:
        raise ServiceError(
            f"未知的区代码：{district_code}。",
            f"Unknown district code: {district_code}.",
            field="district_code",
        )
    async with write_transaction():
        row = await Enterprise.objects().get(Enterprise.uscc == check.code)
        before = _view(row) if row is not None else None
        if row is None:
            row = Enterprise(uscc=check.code)
        row.name = name.strip()
        row.name_en = name_en.strip()
        row.district_code = district_code
        row.address = address.strip()
        row.uscc_checksum_ok = check.checksum_ok
        row.uscc_confirmed_by = None if check.checksum_ok else confirmed_by
        row.is_demo = is_demo
        after = _view(row)
        if after != before:
            await row.save()
            action = "enterprise.create" if before is None else "enterprise.update"
            await audit.record(actor, action, "enterprise", check.code, before, after)
    return row


def _view(row: Enterprise) -> dict:
    return {
        "uscc": row.uscc,
        "name": row.name,
        "name_en": row.name_en,
        "district_code": row.district_code,
        "address": row.address,
        "uscc_checksum_ok": row.uscc_checksum_ok,
        "uscc_confirmed_by": row.uscc_confirmed_by,
    }


async def get_enterprise_by_uscc(uscc: str) -> Enterprise | None:
    return await Enterprise.objects().get(Enterprise.uscc == check_uscc(uscc).code)
