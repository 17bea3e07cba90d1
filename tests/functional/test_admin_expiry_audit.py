"""The expiry dashboard and the read-only audit log pages."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from litestar.routes import HTTPRoute

from registry.app import create_app
from registry.services.actors import Actor
from registry.services.enterprises import upsert_enterprise
from registry.services.entries import NewEntry, change_entry_status, create_entry, today
from registry.services.expiry import expiry_report
from registry.tables import AuditEvent
from registry.uscc import make_uscc

SYSTEM = Actor.system("tests")
USCC = make_uscc("91120101MA05EXP00")
JINNONG_EXTRA = {
    "trademark_no": "第9号",
    "annual_sales": "10",
    "credit_standing": "good",
    "quality_control": "HACCP",
}


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def events_table(response) -> str:
    return response.text.split('<table class="data audit">', 1)[1]


def section(response, section_id: str) -> str:
    return response.text.split(f'id="{section_id}"')[1].split("</section>")[0]


@pytest.fixture
def csrf(root):
    return root.csrf_token_of


@pytest.fixture
def dated(empty_db, run):
    """Entries ending in 20, 45, 80 and 200 days, one that ended 10 days ago, one that
    ended long ago, and a conditional pass due in 10 days."""
    on = today()

    async def go():
        await upsert_enterprise(USCC, "天津到期测试有限公司", "120101", actor=SYSTEM)
        numbers = {}
        for key, days in (
            ("d20", 20),
            ("d45", 45),
            ("d80", 80),
            ("d200", 200),
            ("past10", -10),
            ("past400", -400),
            ("cond", 300),
        ):
            entry = await create_entry(
                NewEntry(
                    "jinnong_product",
                    f"到期测试{key}",
                    USCC,
                    on - dt.timedelta(days=900),
                    valid_until=on + dt.timedelta(days=days),
                    extra=JINNONG_EXTRA,
                ),
                SYSTEM,
            )
            numbers[key] = entry.entry_no
        await change_entry_status(
            numbers["cond"],
            "pass_with_conditions",
            "复核附条件通过",
            SYSTEM,
            deadline=on + dt.timedelta(days=10),
        )
        # Suspended listings are not "expiring": nothing to renew while suspended.
        suspended = await create_entry(
            NewEntry(
                "jinnong_product",
                "到期测试suspended",
                USCC,
                on - dt.timedelta(days=900),
                valid_until=on + dt.timedelta(days=15),
                extra=JINNONG_EXTRA,
            ),
            SYSTEM,
        )
        await change_entry_status(suspended.entry_no, "suspend", "暂停", SYSTEM)
        numbers["suspended"] = suspended.entry_no
        return numbers

    return run(go())


def test_expiry_service_bands(dated, run):
    report = run(expiry_report())
    bands = [[e.entry_no for e in s.items] for s in report.expiring]
    assert bands == [[dated["d20"]], [dated["d45"]], [dated["d80"]]]
    assert [s.count for s in report.expiring] == [1, 1, 1]
    assert [e.entry_no for e in report.conditions_due.items] == [dated["cond"]]
    assert [e.entry_no for e in report.recently_expired.items] == [dated["past10"]]
    assert report.recently_expired.items[0].status == "expired"


def test_expiry_dashboard(dated, staff_client):
    clerk = staff_client("clerk")
    page = clerk.get("/admin/expiry")
    assert page.status_code == 200
    within_30 = section(page, "band-1")
    assert "30天内到期" in within_30 and "(1)" in within_30
    assert dated["d20"] in within_30 and "20 天" in text_of(within_30)
    for other in ("d45", "d80", "d200", "past10", "suspended"):
        assert dated[other] not in within_30
    assert dated["d45"] in section(page, "band-2")
    assert dated["d80"] in section(page, "band-3")
    conditions = section(page, "conditions")
    assert dated["cond"] in conditions and "10 天" in text_of(conditions)
    expired = section(page, "expired")
    assert dated["past10"] in expired and "已过 10 天" in text_of(expired)
    assert dated["past400"] not in page.text and dated["d200"] not in page.text
    english = clerk.get("/admin/expiry", params={"lang": "en"})
    assert "Expiring within 30 days" in english.text and "Recently expired" in english.text


def test_audit_page_lists_a_suspension_with_its_actor(dated, staff_client, csrf, run):
    reviewer = staff_client("reviewer")
    no = dated["d200"]
    done = reviewer.post(
        f"/admin/entries/{no}/status",
        data={"action": "suspend", "reason": "审计测试暂停", "_csrf_token": csrf(reviewer)},
        follow_redirects=False,
    )
    assert done.status_code == 303

    clerk = staff_client("clerk")  # every role may read the log
    log = clerk.get("/admin/audit", params={"action": "entry.suspend"})
    assert log.status_code == 200
    rows = events_table(log).split("<tbody>", 1)[1]
    assert "entry.suspend" in rows and no in rows
    latest = text_of(rows.split("\n    </tr>")[0])
    assert "reviewer1" in latest and "审核" in latest and no in latest
    assert "testclient" in latest  # the client address
    assert "active" in latest and "suspended" in latest and "审计测试暂停" in latest
    assert "entry.create" not in rows  # the filter is an action prefix

    by_actor = clerk.get("/admin/audit", params={"actor": "reviewer1"})
    assert "entry.suspend" in events_table(by_actor)
    assert "entry.create" not in events_table(by_actor)
    by_target = events_table(clerk.get("/admin/audit", params={"target": no}))
    assert "entry.create" in by_target and "entry.suspend" in by_target
    assert dated["d20"] not in by_target
    # A day either side: list_events counts days in UTC, the page shows Beijing time.
    since = (today() - dt.timedelta(days=1)).isoformat()
    until = (today() + dt.timedelta(days=1)).isoformat()
    by_date = clerk.get("/admin/audit", params={"since": since, "until": until})
    assert by_date.status_code == 200 and "entry.suspend" in events_table(by_date)
    old = clerk.get("/admin/audit", params={"until": "2000-01-01"})
    assert "没有符合条件的事件" in old.text
    bad_date = clerk.get("/admin/audit", params={"since": "yesterday"})
    assert bad_date.status_code == 400 and "应为日期" in bad_date.text
    english = clerk.get("/admin/audit", params={"action": "entry.suspend", "lang": "en"})
    assert "Reviewer" in english.text and "Audit log" in english.text


def test_audit_chain_check_on_the_page(dated, staff_client, run):
    client = staff_client("approver")
    page = client.get("/admin/audit")
    assert "校验哈希链" in page.text  # on request: it reads the whole log
    checked = client.get("/admin/audit", params={"verify": "1"})
    total = run(AuditEvent.count().run())
    assert f"哈希链完整：共 {total} 条事件。" in text_of(checked.text)

    async def tamper(actor: str):
        row = await AuditEvent.select().where(AuditEvent.seq == 3).first().run()
        await AuditEvent.update(actor=actor).where(AuditEvent.seq == 3).run()
        return row["actor"]

    original = run(tamper("someone else"))
    try:
        broken = client.get("/admin/audit", params={"verify": "1"})
        assert "哈希链校验失败：第 3 号事件" in text_of(broken.text)
    finally:
        run(tamper(original))
    assert "哈希链完整" in text_of(client.get("/admin/audit", params={"verify": "1"}).text)


def test_the_audit_log_cannot_be_changed_through_the_app(dated, staff_client, csrf):
    for route in create_app().routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/admin/audit"):
            methods = {m for h in route.route_handlers for m in h.http_methods}
            assert methods <= {"GET", "HEAD", "OPTIONS"}, route.path
    admin = staff_client("admin")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = admin.request(
            method, "/admin/audit", data={"_csrf_token": csrf(admin)}, follow_redirects=False
        )
        assert response.status_code == 405, method
