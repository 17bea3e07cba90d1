"""Register configuration pages: administrators only; closing a register keeps every
lookup working; subtype rules and extra fields edited with clear errors."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest

from admin.registers import fields_json
from registry import roles
from registry.services.actors import Actor
from registry.services.enterprises import upsert_enterprise
from registry.services.entries import NewEntry, create_entry, today
from registry.services.registers import REGISTER_FIELDS, SUBTYPE_FIELDS, get_catalog
from registry.tables import AuditEvent, Register, Subtype
from registry.uscc import make_uscc

SYSTEM = Actor.system("tests")
USCC = make_uscc("91120101MA05REG00")


def text_of(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def field_error(response, name: str) -> str:
    match = re.search(
        r'name="' + re.escape(name) + r'"(?:(?!</label>).)*?<span class="field-error"'
        r"[^>]*>([^<]+)</span>",
        response.text,
        re.S,
    )
    assert match, f"no error next to {name}"
    return html.unescape(match.group(1))


@pytest.fixture
def csrf(root):
    return root.csrf_token_of


def post(client, csrf, path: str, data: dict):
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


@pytest.fixture
def restore_registers(run):
    """Put registers and subtypes back as they were (ids stay: other tests rely on them)."""

    async def snapshot():
        return (
            await Register.select().run(),
            await Subtype.select().run(),
        )

    registers, subtypes = run(snapshot())
    yield

    async def restore():
        for row in registers:
            await (
                Register.update(**{k: row[k] for k in REGISTER_FIELDS})
                .where(Register.id == row["id"])
                .run()
            )
        for row in subtypes:
            await (
                Subtype.update(**{k: row[k] for k in SUBTYPE_FIELDS})
                .where(Subtype.id == row["id"])
                .run()
            )

    run(restore())
    from registry.services import cache
    from registry.services.registers import invalidate_catalog

    invalidate_catalog()
    cache.invalidate_all()


@pytest.mark.parametrize("role", [r for r in roles.ROLES if r != roles.ADMIN])
def test_only_administrators_configure_registers(empty_db, staff_client, csrf, role):
    client = staff_client(role)
    assert client.get("/admin/registers").status_code == 403
    assert client.get("/admin/registers/time_honoured").status_code == 403
    assert client.get("/admin/registers/jinnong/subtypes/jinnong_product").status_code == 403
    refused = post(client, csrf, "/admin/registers/time_honoured", {"name_zh": "改名"})
    assert refused.status_code == 403
    assert "名录设置" not in client.get("/admin/").text  # no link in the menu either


def test_register_list_and_forms(empty_db, staff_client):
    admin = staff_client("admin")
    page = admin.get("/admin/registers")
    assert page.status_code == 200
    for code in ("famous_brand", "time_honoured", "jinnong", "certification"):
        assert f"/admin/registers/{code}" in page.text
    assert "/admin/registers/jinnong/subtypes/jinnong_product" in page.text
    assert "停止受理新申请" in page.text  # famous brands are closed by default
    form = admin.get("/admin/registers/time_honoured")
    assert form.status_code == 200 and 'name="open_for_applications"' in form.text
    assert admin.get("/admin/registers/no_such").status_code == 404
    assert admin.get("/admin/registers/jinnong/subtypes/organic").status_code == 404
    english = admin.get("/admin/registers", params={"lang": "en"})
    assert "Closed to new applications" in english.text


def test_closing_a_register_keeps_lookups_working(
    empty_db, restore_registers, staff_client, client, csrf, run
):
    async def seed():
        await upsert_enterprise(USCC, "天津测试老字号有限公司", "120101", actor=SYSTEM)
        return await create_entry(
            NewEntry(
                "tianjin_time_honoured",
                "测试关闭名录老字号",
                USCC,
                today() - dt.timedelta(days=30),
                extra={"founded_year": 1920, "trademark_no": "第1号", "main_business": "糕点"},
            ),
            SYSTEM,
        )

    entry = run(seed())
    token = entry.token
    assert "真实有效" in client.get(f"/V/{token}").text

    admin = staff_client("admin")
    register = run(get_catalog()).by_code["time_honoured"]
    form = {
        "name_zh": register.name_zh,
        "name_en": register.name_en,
        "description_zh": register.description_zh,
        "description_en": register.description_en,
        "authority_zh": register.authority_zh,
        "authority_en": register.authority_en,
        # open_for_applications left unticked: closed
        "closed_note_zh": "测试：本名录暂停受理新申请。",
        "closed_note_en": "Test: closed to new applications.",
    }
    empty_name = post(admin, csrf, "/admin/registers/time_honoured", {**form, "name_zh": " "})
    assert empty_name.status_code == 400 and "名称和机关不能为空" in text_of(empty_name)
    assert run(get_catalog()).by_code["time_honoured"].open_for_applications

    saved = post(admin, csrf, "/admin/registers/time_honoured", form)
    assert saved.status_code == 303
    assert not run(get_catalog()).by_code["time_honoured"].open_for_applications

    public = client.get("/registers/time_honoured")
    assert public.status_code == 200
    assert "测试关闭名录老字号" in public.text and "测试：本名录暂停受理新申请。" in public.text
    assert "真实有效" in client.get(f"/V/{token}").text
    assert client.get(f"/api/v1/verify/{token}").json()["result"] == "valid"
    assert client.get(f"/entries/{entry.entry_no}").status_code == 200
    listing = admin.get("/admin/registers")
    section = listing.text.split('id="register-time_honoured"')[1].split("</section>")[0]
    assert "停止受理新申请" in section

    log = admin.get("/admin/audit", params={"action": "register.update"})
    assert log.status_code == 200
    row = log.text.split("<tbody>", 1)[1]
    assert "register.update" in row and "time_honoured" in row and "admin1" in row
    assert "open_for_applications" in row

    # New entries are still recorded by staff, with a warning on the form.
    clerk = staff_client("clerk")
    new_form = clerk.get("/admin/entries/new", params={"subtype": "tianjin_time_honoured"})
    assert "该名录已停止受理新申请" in new_form.text

    reopened = post(
        admin, csrf, "/admin/registers/time_honoured", {**form, "open_for_applications": "1"}
    )
    assert reopened.status_code == 303
    assert run(get_catalog()).by_code["time_honoured"].open_for_applications


def test_edit_subtype_rules_and_fields(empty_db, restore_registers, staff_client, csrf, run):
    admin = staff_client("admin")
    path = "/admin/registers/jinnong/subtypes/jinnong_product"
    sub = run(get_catalog()).subtypes_by_code["jinnong_product"]
    page = admin.get(path)
    assert page.status_code == 200 and "credit_standing" in page.text
    base = {
        "name_zh": sub.name_zh,
        "name_en": sub.name_en,
        "authority_zh": sub.authority_zh,
        "authority_en": sub.authority_en,
        "validity_years": "3",
        "notice_days": "7",
        "number_format": sub.number_format,
        "extra_fields": fields_json(sub),
    }
    events = run(AuditEvent.count().where(AuditEvent.action == "subtype.update").run())

    bad_json = post(admin, csrf, path, {**base, "extra_fields": '[{"key": "a",}]'})
    assert bad_json.status_code == 400
    assert field_error(bad_json, "extra_fields").startswith("扩展字段不是有效的JSON：第1行")
    assert '[{"key": "a",}]' in html.unescape(bad_json.text)  # what was typed is kept

    bad_type = json.dumps(
        [{"key": "colour", "label_zh": "颜色", "label_en": "Colour", "type": "rgb"}]
    )
    refused = post(admin, csrf, path, {**base, "extra_fields": bad_type})
    assert "第1个字段的类型无效" in field_error(refused, "extra_fields")
    not_a_number = post(admin, csrf, path, {**base, "validity_years": "三年"})
    assert "应为整数" in field_error(not_a_number, "validity_years")
    bad_format = post(admin, csrf, path, {**base, "number_format": "JNCP-{month}"})
    assert "编号格式无效" in field_error(bad_format, "number_format")
    no_name = post(admin, csrf, path, {**base, "name_zh": ""})
    assert "请填写“中文名称”" in field_error(no_name, "name_zh")
    assert run(AuditEvent.count().where(AuditEvent.action == "subtype.update").run()) == events
    assert run(get_catalog()).subtypes_by_code["jinnong_product"] == sub

    fields = json.loads(base["extra_fields"]) + [
        {"key": "origin", "label_zh": "产地", "label_en": "Origin", "type": "text"}
    ]
    saved = post(
        admin,
        csrf,
        path,
        {
            **base,
            "validity_years": "5",
            "notice_days": "",
            "notice_working_days": "1",
            "extra_fields": json.dumps(fields, ensure_ascii=False),
        },
    )
    assert saved.status_code == 303
    changed = run(get_catalog()).subtypes_by_code["jinnong_product"]
    assert changed.validity_years == 5 and changed.notice_days is None
    assert changed.notice_working_days
    assert [f.key for f in changed.extra_fields][-1] == "origin"

    # The entry form follows at once.
    clerk = staff_client("clerk")
    form = clerk.get("/admin/entries/new", params={"subtype": "jinnong_product"})
    assert 'name="x_origin"' in form.text and "产地" in form.text
