"""Entry management in the back office, through the real app with signed-in staff:
list and filters, create with typed fields, edit, status actions by role, the public
pages changing at once, and GI authorised users."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from registry.services import audit
from registry.services.actors import Actor
from registry.services.enterprises import upsert_enterprise
from registry.services.entries import (
    NewEntry,
    create_entry,
    get_entry,
    get_entry_detail,
    today,
)
from registry.statuses import add_months
from registry.tables import AuditEvent, AuthorisedUser, Enterprise, Entry, StatusChange
from registry.uscc import make_uscc

SYSTEM = Actor.system("tests")
USCC = make_uscc("91120101MA05ADM00")
NEW_USCC = make_uscc("91120104MA05ADM01")
USER_USCC = make_uscc("91120119MA05ADM02")
LZH_EXTRA = {"founded_year": 1900, "trademark_no": "第100号", "main_business": "糕点"}
JINNONG_EXTRA = {
    "trademark_no": "第200号",
    "annual_sales": "300",
    "credit_standing": "good",
    "quality_control": "HACCP",
}
GI_EXTRA = {"protected_area": "蓟州区", "product_standard": "DB12/T 1"}


def text_of(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def field_error(response, name: str) -> str:
    """The message shown next to the form field ``name``."""
    match = re.search(
        r'name="' + re.escape(name) + r'"[^>]*>(?:(?!</label>).)*?<span class="field-error"'
        r"[^>]*>([^<]+)</span>",
        response.text,
        re.S,
    )
    assert match, f"no error next to {name}"
    return html.unescape(match.group(1))


@pytest.fixture
def csrf(root):
    return root.csrf_token_of


@pytest.fixture
def seeded(empty_db, run):
    """One time-honoured entry, one Jinnong entry and one GI entry of a known enterprise."""

    async def go():
        await upsert_enterprise(USCC, "天津测试食品有限公司", "120101", actor=SYSTEM)
        start = today() - dt.timedelta(days=100)
        lzh = await create_entry(
            NewEntry(
                "tianjin_time_honoured",
                "测试老字号糕点",
                USCC,
                start,
                district_code="120101",
                extra=LZH_EXTRA,
            ),
            SYSTEM,
        )
        jn = await create_entry(
            NewEntry(
                "jinnong_product",
                "测试小站稻",
                USCC,
                start,
                district_code="120112",
                industry="grain",
                extra=JINNONG_EXTRA,
            ),
            SYSTEM,
        )
        gi = await create_entry(
            NewEntry(
                "gi_protected_product",
                "测试核桃",
                USCC,
                start,
                district_code="120119",
                extra=GI_EXTRA,
            ),
            SYSTEM,
        )
        return {"lzh": lzh.entry_no, "jn": jn.entry_no, "gi": gi.entry_no}

    return run(go())


def post(client, csrf, path: str, data: dict):
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


def status_of(run, entry_no: str) -> str:
    return run(get_entry(entry_no)).stored_status


# --- list -------------------------------------------------------------------------------


def test_list_filters_and_paging(seeded, staff_client, monkeypatch):
    clerk = staff_client("clerk")
    everything = clerk.get("/admin/entries")
    assert everything.status_code == 200
    for entry_no in seeded.values():
        assert entry_no in everything.text
    assert "新增登记" in everything.text  # a clerk may create

    by_register = clerk.get("/admin/entries", params={"register": "jinnong"})
    assert seeded["jn"] in by_register.text and seeded["lzh"] not in by_register.text
    by_subtype = clerk.get("/admin/entries", params={"subtype": "tianjin_time_honoured"})
    assert seeded["lzh"] in by_subtype.text and seeded["jn"] not in by_subtype.text
    by_district = clerk.get("/admin/entries", params={"district": "120119"})
    assert seeded["gi"] in by_district.text and seeded["jn"] not in by_district.text
    by_q = clerk.get("/admin/entries", params={"q": "小站"})
    assert seeded["jn"] in by_q.text and seeded["gi"] not in by_q.text
    by_status = clerk.get("/admin/entries", params={"status": "suspended"})
    assert "共 0 条" in text_of(by_status)

    bad = clerk.get("/admin/entries", params={"district": "999999"})
    assert bad.status_code == 400 and "未知的区代码" in bad.text

    import admin.entries

    monkeypatch.setattr(admin.entries, "PAGE_SIZE", 2)
    first = clerk.get("/admin/entries")
    assert "第 1 / 2 页" in text_of(first) and 'rel="next"' in first.text
    second = clerk.get("/admin/entries", params={"page": 2})
    shown = [no for no in seeded.values() if no in first.text] + [
        no for no in seeded.values() if no in second.text
    ]
    assert sorted(shown) == sorted(seeded.values())

    english = clerk.get("/admin/entries", params={"lang": "en"})
    assert "New entry" in english.text and "Entries" in english.text


# --- create and edit --------------------------------------------------------------------


def _jinnong_form(**changes) -> dict:
    form = {
        "subtype": "jinnong_product",
        "entry_no": "",
        "name": "新建测试大米",
        "name_en": "Test rice",
        "enterprise_uscc": NEW_USCC,
        "enterprise_name": "天津新建农业有限公司",
        "enterprise_district": "120104",
        "district_code": "",
        "industry": "grain",
        "valid_from": today().isoformat(),
        "valid_until": "",
        "x_trademark_no": "第300号",
        "x_annual_sales": "1,250.5",
        "x_credit_standing": "good",
        "x_quality_control": "ISO 22000",
        "description": "",
    }
    form.update(changes)
    return form


def test_create_entry_with_typed_fields_and_a_new_enterprise(empty_db, staff_client, csrf, run):
    clerk = staff_client("clerk")
    chooser = clerk.get("/admin/entries/new")
    assert (
        chooser.status_code == 200 and "/admin/entries/new?subtype=jinnong_product" in chooser.text
    )
    form = clerk.get("/admin/entries/new", params={"subtype": "jinnong_product"})
    assert form.status_code == 200
    for name in ("x_trademark_no", "x_annual_sales", "x_credit_standing", "x_quality_control"):
        assert f'name="{name}"' in form.text
    assert "企业信用状况" in form.text and ">良好<" in form.text

    response = post(clerk, csrf, "/admin/entries/new", _jinnong_form())
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert location.endswith("?done=create")
    entry_no = location.split("/admin/entries/")[1].split("?")[0]
    assert re.fullmatch(rf"JNCP-{today().year}-\d{{4}}", entry_no)

    detail = clerk.get(location)
    page = text_of(detail)
    assert "登记已创建" in page
    assert "年销售额（万元）" in page and "1250.5" in page  # typed and normalised
    assert "企业信用状况" in page and "良好" in page
    assert "天津新建农业有限公司" in page

    entry = run(get_entry(entry_no))
    assert entry.enterprise_uscc == NEW_USCC and entry.district_code == "120104"
    assert entry.valid_until is not None  # the subtype's 3-year term
    actions = {e["action"] for e in run(AuditEvent.select(AuditEvent.action).run())}
    assert {"enterprise.create", "entry.create"} <= actions
    creator = run(AuditEvent.select().where(AuditEvent.action == "entry.create").first().run())
    assert creator["actor"] == "clerk1" and creator["actor_role"] == "clerk"


def test_a_bad_field_is_shown_in_chinese_and_nothing_is_written(empty_db, staff_client, csrf, run):
    clerk = staff_client("clerk")
    events_before = run(AuditEvent.count().run())
    bad = post(clerk, csrf, "/admin/entries/new", _jinnong_form(x_annual_sales="很多"))
    assert bad.status_code == 400
    assert field_error(bad, "x_annual_sales") == "“年销售额（万元）”应为数字，例如 1200.5。"
    # Everything typed is kept.
    assert 'value="新建测试大米"' in bad.text and 'value="很多"' in bad.text
    assert 'value="天津新建农业有限公司"' in bad.text and 'value="第300号"' in bad.text
    # No entry, and not the new enterprise either: one transaction.
    assert run(Entry.count().run()) == 0 and run(Enterprise.count().run()) == 0
    assert run(AuditEvent.count().run()) == events_before

    missing = post(clerk, csrf, "/admin/entries/new", _jinnong_form(x_quality_control=""))
    assert field_error(missing, "x_quality_control") == "请填写“质量控制体系”。"
    unknown = post(
        clerk, csrf, "/admin/entries/new", _jinnong_form(enterprise_name="", enterprise_district="")
    )
    assert "未找到该统一社会信用代码的企业" in field_error(unknown, "enterprise_name")
    wrong_code = post(clerk, csrf, "/admin/entries/new", _jinnong_form(enterprise_uscc="1234"))
    assert "应为18位" in field_error(wrong_code, "enterprise_uscc")
    bad_date = post(clerk, csrf, "/admin/entries/new", _jinnong_form(valid_from="2025-13-01"))
    assert "应为日期" in field_error(bad_date, "valid_from")
    assert run(Entry.count().run()) == 0 and run(Enterprise.count().run()) == 0

    english = post(clerk, csrf, "/admin/entries/new?lang=en", _jinnong_form(x_annual_sales="many"))
    assert field_error(english, "x_annual_sales") == (
        "'Annual sales (10,000 CNY)' must be a number, for example 1200.5."
    )


def test_free_numbers_must_be_given(empty_db, staff_client, csrf, run):
    run(upsert_enterprise(USCC, "天津测试食品有限公司", "120101", actor=SYSTEM))
    clerk = staff_client("clerk")
    form = {
        "subtype": "organic",
        "name": "测试有机蔬菜",
        "enterprise_uscc": USCC,
        "valid_from": today().isoformat(),
        "x_cert_body": "示例认证",
        "x_cert_body_approval_no": "CNCA-R-1",
    }
    missing = post(clerk, csrf, "/admin/entries/new", form)
    assert missing.status_code == 400
    assert "请填写证书编号" in field_error(missing, "entry_no")
    done = post(clerk, csrf, "/admin/entries/new", {**form, "entry_no": "ORG-TEST-001"})
    assert done.status_code == 303
    assert run(get_entry("ORG-TEST-001")).enterprise_uscc == USCC


def test_edit_entry(seeded, staff_client, csrf, run):
    clerk = staff_client("clerk")
    no = seeded["lzh"]
    form = clerk.get(f"/admin/entries/{no}/edit")
    assert form.status_code == 200
    assert 'value="测试老字号糕点"' in form.text and 'value="1900"' in form.text

    values = {
        "name": "测试老字号糕点（改）",
        "name_en": "",
        "enterprise_uscc": USCC,
        "district_code": "120101",
        "industry": "food",
        "valid_from": (today() - dt.timedelta(days=100)).isoformat(),
        "valid_until": "",
        "x_founded_year": "1890",
        "x_trademark_no": "第100号",
        "x_main_business": "糕点、茶食",
        "authority_zh": "",
        "authority_en": "",
        "description": "",
    }
    too_young = post(clerk, csrf, f"/admin/entries/{no}/edit", {**values, "x_founded_year": "2020"})
    assert too_young.status_code == 400
    assert "品牌创立须满50年" in field_error(too_young, "x_founded_year")
    assert run(get_entry(no)).name == "测试老字号糕点"

    saved = post(clerk, csrf, f"/admin/entries/{no}/edit", values)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=edit")
    entry = run(get_entry(no))
    assert entry.name == "测试老字号糕点（改）" and entry.extra["founded_year"] == 1890
    assert entry.industry == "food"
    event = run(AuditEvent.select().where(AuditEvent.action == "entry.update").first().run())
    assert event["actor"] == "clerk1" and "name" in event["after"]

    # A reviewer may look but not edit.
    reviewer = staff_client("reviewer")
    assert reviewer.get(f"/admin/entries/{no}/edit").status_code == 403
    assert post(reviewer, csrf, f"/admin/entries/{no}/edit", values).status_code == 403


# --- status actions ---------------------------------------------------------------------


def test_suspend_by_a_reviewer_shows_at_once_with_reason_and_signer(
    seeded, staff_client, client, csrf, run
):
    no = seeded["lzh"]
    token = run(get_entry(no)).token
    # Warm the public caches first: the change must still show at once.
    assert "真实有效" in client.get(f"/V/{token}").text
    assert client.get(f"/api/v1/verify/{token}").json()["result"] == "valid"

    reviewer = staff_client("reviewer")
    detail = reviewer.get(f"/admin/entries/{no}")
    assert 'value="suspend"' in detail.text
    assert 'value="revoke"' not in detail.text  # not for a reviewer
    response = post(
        reviewer,
        csrf,
        f"/admin/entries/{no}/status",
        {"action": "suspend", "reason": "监督抽检不合格，暂停使用"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/entries/{no}?done=suspend"

    public = client.get(f"/V/{token}")
    assert public.status_code == 200 and "真实，但已被暂停使用" in public.text
    assert "监督抽检不合格，暂停使用" in public.text
    api = client.get(f"/api/v1/verify/{token}").json()
    assert api["result"] == "suspended" and api["reason"] == "监督抽检不合格，暂停使用"

    after = reviewer.get(response.headers["location"])
    assert "已执行“暂停”" in text_of(after)
    history = after.text.split('id="history"')[1]
    assert "监督抽检不合格，暂停使用" in history
    assert '<td class="signer">reviewer1</td>' in history
    assert run(get_entry_detail(no)).history[0].signed_by == "reviewer1"
    # Now suspended: a reviewer has nothing more to do, an approver may restore.
    assert 'value="suspend"' not in after.text
    approver = staff_client("approver")
    assert 'value="restore"' in approver.get(f"/admin/entries/{no}").text


def test_approver_can_revoke_and_reviewer_cannot(seeded, staff_client, csrf, run):
    no = seeded["jn"]
    history_before = run(StatusChange.count().run())
    reviewer = staff_client("reviewer")
    refused = post(
        reviewer, csrf, f"/admin/entries/{no}/status", {"action": "revoke", "reason": "试图撤销"}
    )
    assert refused.status_code == 403
    assert status_of(run, no) == "active" and run(StatusChange.count().run()) == history_before

    approver = staff_client("approver")
    assert 'value="revoke"' in approver.get(f"/admin/entries/{no}").text
    done = post(
        approver, csrf, f"/admin/entries/{no}/status", {"action": "revoke", "reason": "复查不合格"}
    )
    assert done.status_code == 303
    assert status_of(run, no) == "revoked"
    assert run(get_entry_detail(no)).history[0].signed_by == "approver1"


def test_clerk_cannot_suspend(seeded, staff_client, csrf, run):
    clerk = staff_client("clerk")
    no = seeded["lzh"]
    detail = clerk.get(f"/admin/entries/{no}")
    assert 'name="action"' not in detail.text.split('id="users"')[0]
    assert "您的角色没有可执行的状态操作" in detail.text
    refused = post(
        clerk, csrf, f"/admin/entries/{no}/status", {"action": "suspend", "reason": "不应生效"}
    )
    assert refused.status_code == 403
    assert status_of(run, no) == "active"


def test_a_reason_is_required(seeded, staff_client, csrf, run):
    reviewer = staff_client("reviewer")
    no = seeded["lzh"]
    response = post(
        reviewer, csrf, f"/admin/entries/{no}/status", {"action": "suspend", "reason": "  "}
    )
    assert response.status_code == 400 and "请填写原因" in response.text
    assert status_of(run, no) == "active"


def test_pass_with_conditions_deadline_at_most_six_months(seeded, staff_client, csrf, run):
    approver = staff_client("approver")
    no = seeded["lzh"]
    path = f"/admin/entries/{no}/status"
    too_late = (add_months(today(), 6) + dt.timedelta(days=1)).isoformat()
    refused = post(
        approver,
        csrf,
        path,
        {"action": "pass_with_conditions", "reason": "复核附条件通过", "deadline": too_late},
    )
    assert refused.status_code == 400
    assert "6个月" in text_of(refused)
    assert ">复核附条件通过</textarea>" in refused.text  # the reason typed is kept
    assert status_of(run, no) == "active"
    no_deadline = post(approver, csrf, path, {"action": "pass_with_conditions", "reason": "x"})
    assert no_deadline.status_code == 400 and "须设定整改期限" in no_deadline.text

    deadline = (today() + dt.timedelta(days=60)).isoformat()
    done = post(
        approver,
        csrf,
        path,
        {"action": "pass_with_conditions", "reason": "复核附条件通过", "deadline": deadline},
    )
    assert done.status_code == 303
    entry = run(get_entry(no))
    assert entry.stored_status == "conditional" and entry.condition_deadline.isoformat() == deadline
    page = approver.get(f"/admin/entries/{no}")
    assert 'value="confirm_conditions"' in page.text and 'value="fail_conditions"' in page.text
    confirmed = post(approver, csrf, path, {"action": "confirm_conditions", "reason": "整改到位"})
    assert confirmed.status_code == 303 and status_of(run, no) == "active"


# --- GI authorised users ----------------------------------------------------------------


def test_gi_authorised_user_add_and_suspend(seeded, staff_client, client, csrf, run):
    no = seeded["gi"]
    clerk = staff_client("clerk")
    page = clerk.get(f"/admin/entries/{no}")
    assert "地理标志使用人" in page.text and 'name="u_uscc"' in page.text
    add = {
        "u_uscc": USER_USCC,
        "u_name": "蓟州测试果品合作社",
        "u_district": "120119",
        "u_valid_from": today().isoformat(),
        "u_valid_until": (today() + dt.timedelta(days=3 * 365)).isoformat(),
    }
    bad = post(clerk, csrf, f"/admin/entries/{no}/users", {**add, "u_valid_until": "2000-01-01"})
    assert bad.status_code == 400 and "截止日不能早于起始日" in field_error(bad, "u_valid_until")
    assert run(AuthorisedUser.count().run()) == 0 and run(Enterprise.count().run()) == 1

    added = post(clerk, csrf, f"/admin/entries/{no}/users", add)
    assert added.status_code == 303 and added.headers["location"].endswith("?done=user_add")
    users = run(get_entry_detail(no)).authorised_users
    assert len(users) == 1 and users[0].enterprise_uscc == USER_USCC
    user = users[0]
    detail = clerk.get(added.headers["location"])
    assert "蓟州测试果品合作社" in detail.text and user.user_no in detail.text

    again = post(clerk, csrf, f"/admin/entries/{no}/users", add)
    assert again.status_code == 400 and "已是此地理标志的使用人" in again.text

    # Only GI entries have users.
    not_gi = post(clerk, csrf, f"/admin/entries/{seeded['jn']}/users", add)
    assert not_gi.status_code == 400 and "只有地理标志" in not_gi.text

    reviewer = staff_client("reviewer")
    assert post(reviewer, csrf, f"/admin/entries/{no}/users", add).status_code == 403
    path = f"/admin/entries/{no}/users/{user.user_no}/status"
    clerk_try = post(clerk, csrf, path, {"action": "suspend", "reason": "x"})
    assert clerk_try.status_code == 403
    suspended = post(reviewer, csrf, path, {"action": "suspend", "reason": "使用人产品抽检不合格"})
    assert suspended.status_code == 303
    assert "user=" in suspended.headers["location"]
    user = run(get_entry_detail(no)).authorised_users[0]
    assert user.stored_status == "suspended"
    public = client.get(f"/V/{user.token}")
    assert "暂停" in public.text and "使用人产品抽检不合格" in public.text
    # The GI itself stays valid.
    assert status_of(run, no) == "active"
    wrong_entry = post(
        reviewer,
        csrf,
        f"/admin/entries/{seeded['jn']}/users/{user.user_no}/status",
        {"action": "restore", "reason": "x"},
    )
    assert wrong_entry.status_code == 404
    event = run(
        AuditEvent.select().where(AuditEvent.action == "authorised_user.suspend").first().run()
    )
    assert event["actor"] == "reviewer1" and event["target_id"] == user.user_no


def test_detail_page_shows_everything_in_both_languages(seeded, staff_client, run):
    approver = staff_client("approver")
    no = seeded["jn"]
    entry = run(get_entry(no))
    zh = approver.get(f"/admin/entries/{no}")
    assert zh.status_code == 200
    for text in ("注册商标号", "第200号", "质量控制体系", "HACCP", "良好", USCC, "状态记录"):
        assert text in zh.text
    assert f"/qr/{entry.token}.png" in zh.text and f'href="/V/{entry.token}"' in zh.text
    assert f'href="/entries/{no}"' in zh.text
    en = approver.get(f"/admin/entries/{no}", params={"lang": "en"})
    assert en.status_code == 200
    for text in ("Trademark registration no.", "Status actions", "Status history", "Good"):
        assert text in en.text
    assert approver.get("/admin/entries/NO-SUCH-ENTRY").status_code == 404
    assert run(audit.verify_chain()).ok
