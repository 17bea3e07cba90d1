"""The audit log: every change writes one event, in a hash chain that exposes tampering."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest

from registry.services import audit
from registry.services.actors import Actor
from registry.services.enterprises import upsert_enterprise
from registry.services.entries import NewEntry, change_entry_status, create_entry
from registry.services.errors import ServiceError
from registry.tables import AuditEvent
from registry.uscc import make_uscc

CLERK = Actor("clerk7", "clerk", "李受理", "10.0.0.7")
APPROVER = Actor("approver7", "approver", "赵批准", "10.0.0.8")
EXTRA = {
    "trademark_no": "第123号",
    "annual_sales": "100",
    "credit_standing": "good",
    "quality_control": "HACCP",
}


def _events(run):
    return run(AuditEvent.select().order_by(AuditEvent.seq).run())


def _cli_verify():
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


@pytest.fixture
def history(empty_db, run):
    """A few real changes: an enterprise, two entries, a suspension."""
    uscc = make_uscc("91120101MA0000001")

    async def go():
        await upsert_enterprise(uscc, "天津审计测试有限公司", "120101", actor=CLERK)
        for n in (1, 2):
            await create_entry(
                NewEntry(
                    "jinnong_product", f"审计测试产品{n}", uscc, dt.date(2025, 3, 1), extra=EXTRA
                ),
                signed_by=CLERK,
            )
        await change_entry_status("JNCP-2025-0001", "suspend", "抽检不合格", APPROVER)

    run(go())
    return uscc


def test_each_change_writes_one_signed_event(history, run):
    rows = _events(run)
    actions = [r["action"] for r in rows]
    assert actions == ["enterprise.create", "entry.create", "entry.create", "entry.suspend"]
    suspend = rows[-1]
    assert suspend["actor"] == "赵批准（approver7）" and suspend["actor_role"] == "approver"
    assert suspend["client_addr"] == "10.0.0.8" and suspend["target_id"] == "JNCP-2025-0001"
    assert '"status":"active"' in suspend["before"] and '"status":"suspended"' in suspend["after"]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))


def test_a_refused_change_writes_nothing(history, run):
    before = len(_events(run))
    with pytest.raises(ServiceError):
        run(change_entry_status("JNCP-2025-0002", "restore", "无理由恢复", APPROVER))
    with pytest.raises(ServiceError):  # a clerk may not revoke
        run(change_entry_status("JNCP-2025-0002", "revoke", "越权", CLERK))
    assert len(_events(run)) == before


def test_cli_verify_passes_on_an_intact_chain(history):
    result = _cli_verify()
    assert result.returncode == 0, result.stderr
    assert "4" in result.stdout and "intact" in result.stdout


def _tamper(root, sql: str) -> None:
    if root.DB_KIND == "sqlite":
        path = root.DATABASE_URL.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute(sql)
    else:
        import asyncpg

        async def go():
            conn = await asyncpg.connect(root.DATABASE_URL)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(go())


def test_an_altered_event_is_named(history, root):
    _tamper(root, "UPDATE audit_event SET actor = '无名氏' WHERE seq = 2")
    result = _cli_verify()
    assert result.returncode == 1
    assert "seq 2" in result.stderr and "changed" in result.stderr


def test_an_altered_event_with_a_recomputed_hash_breaks_the_next_link(history, root, run):
    row = run(AuditEvent.select().where(AuditEvent.seq == 2).first().run())
    row["after"] = row["after"].replace("审计测试产品1", "偷换的名称")
    forged_hash = audit.event_hash(row["prev_hash"], row)
    _tamper(
        root,
        f"UPDATE audit_event SET after = '{row['after']}', hash = '{forged_hash}' WHERE seq = 2",
    )
    result = _cli_verify()
    assert result.returncode == 1 and "seq 3" in result.stderr


def test_a_deleted_event_is_found(history, root):
    _tamper(root, "DELETE FROM audit_event WHERE seq = 3")
    result = _cli_verify()
    assert result.returncode == 1 and "seq 4" in result.stderr and "missing" in result.stderr


def test_concurrent_writers_keep_one_chain(history, run):
    async def go():
        await asyncio.gather(
            change_entry_status("JNCP-2025-0002", "suspend", "并发一", APPROVER),
            change_entry_status("JNCP-2025-0001", "restore", "并发二", APPROVER),
        )
        return await audit.verify_chain()

    check = run(go())
    assert check.ok and check.events == 6
