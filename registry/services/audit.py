"""The tamper-evident audit log: every change to registry data, hash-chained.

Each event stores the hash of the previous one; its own hash covers that and its
canonical JSON.  Changing or deleting a stored event breaks the chain at that event,
which ``verify_chain`` (``registry audit verify``) finds and names.  Deleting the newest
events leaves a shorter valid chain: compare the head hash that ``verify`` prints with
one kept elsewhere (for example printed in the yearly report) to catch that.

``record`` must run inside the write transaction of the change it describes, so the
change and its event are stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from registry.db import is_postgres
from registry.services.actors import Actor
from registry.tables import AuditEvent

GENESIS = "0" * 64
CST = dt.timezone(dt.timedelta(hours=8))
_CHAIN_LOCK = 742_001  # PostgreSQL advisory lock id: one writer extends the chain at a time


def canonical(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _timestamp(at: dt.datetime) -> str:
    if at.tzinfo is None:  # a driver that hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = canonical(
        {
            "seq": fields["seq"],
            "at": _timestamp(fields["at"]),
            "actor": fields["actor"],
            "actor_role": fields["actor_role"],
            "action": fields["action"],
            "target_type": fields["target_type"],
            "target_id": fields["target_id"],
            "client_addr": fields["client_addr"],
            "before": fields["before"],
            "after": fields["after"],
        }
    )
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


async def record(
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event.  Call inside the change's write transaction."""
    if is_postgres():
        await AuditEvent.raw(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK})")
    last = await (
        AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    fields = {
        "seq": (last["seq"] + 1) if last else 1,
        # Whole microseconds in UTC: the value reads back identically on both databases.
        "at": dt.datetime.now(dt.UTC),
        "actor": actor.signature,
        "actor_role": actor.role,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "client_addr": actor.client_addr,
        "before": canonical(before),
        "after": canonical(after),
    }
    prev = last["hash"] if last else GENESIS
    event = AuditEvent(**fields, prev_hash=prev, hash=event_hash(prev, fields))
    await event.save()
    return event


async def record_update(
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> bool:
    """Record only the fields that changed; nothing at all when nothing did.

    Returns whether anything changed (the caller saves the row only then)."""
    changed = sorted(k for k in after if after[k] != before.get(k))
    if not changed:
        return False
    await record(
        actor,
        action,
        target_type,
        target_id,
        {k: before.get(k) for k in changed},
        {k: after[k] for k in changed},
    )
    return True


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    head_hash: str
    bad_seq: int | None = None
    bad_id: int | None = None
    problem: str = ""
    problem_zh: str = ""


async def verify_chain(batch: int = 2000) -> ChainCheck:
    """Recompute every hash in order; report the first event that does not fit."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    after_seq = 0
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        )
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainCheck(
                    False,
                    count,
                    prev,
                    row["seq"],
                    row["id"],
                    f"event {expected_seq} is missing (next stored event is {row['seq']})",
                )
            if row["prev_hash"] != prev:
                return ChainCheck(
                    False,
                    count,
                    prev,
                    row["seq"],
                    row["id"],
                    "prev_hash does not match the previous event (an event before it "
                    "was changed or deleted)",
                    "与前一条事件的哈希不符（其前的事件被改动或删除）",
                )
            if event_hash(prev, row) != row["hash"]:
                return ChainCheck(
                    False,
                    count,
                    prev,
                    row["seq"],
                    row["id"],
                    "the stored content does not match its hash (the event was changed)",
                    "内容与其哈希不符（该事件被改动）",
                )
            prev = row["hash"]
            expected_seq += 1
            count += 1
        after_seq = rows[-1]["seq"]
    return ChainCheck(True, count, prev)


@dataclass
class AuditFilters:
    action: str | None = None
    actor: str | None = None
    target_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


async def list_events(
    filters: AuditFilters, page: int = 1, page_size: int = 50
) -> tuple[list[dict[str, Any]], int]:
    query = AuditEvent.select()
    count = AuditEvent.count()
    conditions = []
    if filters.action:
        conditions.append(AuditEvent.action.like(filters.action.replace("%", "") + "%"))
    if filters.actor:
        conditions.append(AuditEvent.actor.like("%" + filters.actor.replace("%", "") + "%"))
    if filters.target_id:
        conditions.append(AuditEvent.target_id == filters.target_id)
    # Dates are the registry's days (China Standard Time), as the pages show them.
    if filters.since:
        conditions.append(AuditEvent.at >= dt.datetime.combine(filters.since, dt.time(), CST))
    if filters.until:
        end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time(), CST)
        conditions.append(AuditEvent.at < end)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await (
        query.order_by(AuditEvent.seq, ascending=False)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    for row in rows:
        row["before"] = json.loads(row["before"])
        row["after"] = json.loads(row["after"])
    return rows, await count
