"""Import and export in /admin: upload, preview with the bad row, fix, confirm; roles,
CSRF, size and content checks; the export matches the public API."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sheet_samples as samples

from registry.tables import AuditEvent, Entry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def csrf(root):
    return root.csrf_token_of


def xlsx_bytes(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(samples.HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, csrf, data: bytes, name="jinnong.xlsx", valid_only=False, **extra):
    form = {"register": "jinnong", "_csrf_token": csrf(client), **extra}
    if valid_only:
        form["valid_only"] = "1"
    return client.post(
        "/admin/imports/preview",
        data=form,
        files={"file": (name, data, XLSX if name.endswith(".xlsx") else "text/csv")},
        follow_redirects=False,
    )


def import_id(page) -> str:
    found = re.search(r'name="id" value="([^"]+)"', page.text)
    assert found, "no confirm form on the preview page"
    return found.group(1)


def apply(client, csrf, ident: str):
    return client.post(
        "/admin/imports/apply",
        data={"id": ident, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )


def counts(run) -> tuple[int, int]:
    async def go():
        return await Entry.count(), await AuditEvent.count()

    return run(go())


def test_clerk_uploads_sees_the_bad_row_fixes_and_applies(empty_db, staff_client, csrf, run):
    client = staff_client("clerk")
    form = client.get("/admin/imports")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text and 'name="_csrf_token"' in form.text

    rows = samples.jinnong_rows(60, bad=7)
    before = counts(run)
    preview = upload(client, csrf, xlsx_bytes(rows))
    assert preview.status_code == 200, preview.text[:500]
    text = preview.text
    assert "导入预览" in text
    # the error table names the spreadsheet row, the column and what is wrong
    assert re.search(r"<td>8</td><td>年销售额（万元）</td><td>“年销售额（万元）”应为数字", text), (
        text[:3000]
    )
    assert 'name="id"' not in text  # no confirm button: nothing can be written
    assert "前 50 行" in text and text.count('<tr class="create">') == 49
    assert counts(run) == before

    rows[6][samples.SALES] = 321.5
    preview = upload(client, csrf, xlsx_bytes(rows))
    assert preview.status_code == 200 and "确认导入" in preview.text
    # rows, create, update, unchanged, error
    assert "<td>60</td><td>60</td><td>0</td><td>0</td><td>0</td>" in preview.text
    ident = import_id(preview)
    assert counts(run) == before  # a preview writes nothing

    done = apply(client, csrf, ident)
    assert done.status_code == 200, done.text[:500]
    assert "导入完成" in done.text and "<td>60</td>" in done.text
    assert counts(run)[0] == before[0] + 60

    async def signer():
        return await AuditEvent.select(AuditEvent.actor).where(AuditEvent.action == "entry.import")

    assert [e["actor"] for e in run(signer())] == ["clerk1"]

    again = apply(client, csrf, ident)  # a second click imports nothing twice
    assert again.status_code == 404 and "已导入或已过期" in again.text
    assert counts(run)[0] == before[0] + 60

    rows[0][samples.HEADER.index("名称")] = "津沽小站稻（新包装）"
    preview = upload(client, csrf, xlsx_bytes(rows))
    assert "<td>60</td><td>0</td><td>1</td><td>59</td><td>0</td>" in preview.text
    assert re.search(r"<td>更新</td>|>更新</span>", preview.text)
    assert apply(client, csrf, import_id(preview)).status_code == 200
    listing = client.get("/api/v1/entries", params={"q": "新包装"}).json()
    assert [i["entry_no"] for i in listing["items"]] == ["JNCP-2024-0001"]


def test_valid_only_and_another_clerk_cannot_confirm(empty_db, staff_client, csrf, run):
    clerk = staff_client("clerk")
    preview = upload(clerk, csrf, xlsx_bytes(samples.jinnong_rows(5, bad=2)), valid_only=True)
    assert "确认导入无误的 4 行" in preview.text
    ident = import_id(preview)
    admin = staff_client("admin")
    assert apply(admin, csrf, ident).status_code == 404  # not theirs to confirm
    done = apply(clerk, csrf, ident)
    assert done.status_code == 200 and "导入完成" in done.text
    assert counts(run)[0] == 4


def test_reviewer_cannot_import_but_can_export(demo_db, staff_client, csrf):
    reviewer = staff_client("reviewer")
    page = reviewer.get("/admin/imports")
    assert page.status_code == 200 and "/admin/exports" in page.text
    assert "/admin/imports/preview" not in page.text  # no upload form for this role
    refused = upload(reviewer, csrf, xlsx_bytes(samples.jinnong_rows(2)))
    assert refused.status_code == 403
    assert apply(reviewer, csrf, "x" * 32).status_code == 403
    got = reviewer.get("/admin/exports", params={"register": "jinnong", "format": "csv"})
    assert got.status_code == 200


def test_posts_without_csrf_token_are_refused(empty_db, staff_client):
    client = staff_client("clerk")
    no_token = client.post(
        "/admin/imports/preview",
        data={"register": "jinnong"},
        files={"file": ("j.xlsx", xlsx_bytes(samples.jinnong_rows(1)), XLSX)},
    )
    assert no_token.status_code == 403
    assert client.post("/admin/imports/apply", data={"id": "x" * 32}).status_code == 403


def test_uploads_are_checked_by_size_and_content(empty_db, staff_client, csrf, run):
    client = staff_client("clerk")
    fake = upload(client, csrf, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, name="photo.xlsx")
    assert fake.status_code == 400 and "不是 Excel 工作簿" in fake.text
    old = upload(client, csrf, b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="old.xls")
    assert old.status_code == 400 and "另存为" in old.text
    missing = client.post(
        "/admin/imports/preview",
        data={"register": "jinnong", "_csrf_token": csrf(client)},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert missing.status_code == 400 and "请选择要导入的文件" in missing.text

    big = upload(client, csrf, b"a,b\n" + b"x" * (11 * 1024 * 1024), name="big.csv")
    # refused while the body is read (before the handler): back to the form, with a message
    assert big.status_code == 303
    assert big.headers["location"] == "/admin/imports?error=too_large"
    assert "文件超过 10 MB" in client.get(big.headers["location"]).text
    assert counts(run)[0] == 0

    english = client.get("/admin/imports?error=too_large&lang=en")
    assert "larger than 10 MB" in english.text


def _api_items(client, register: str) -> dict[str, dict]:
    items, page = {}, 1
    while True:
        body = client.get(
            "/api/v1/entries", params={"register": register, "page": page, "page_size": 100}
        ).json()
        items.update((i["entry_no"], i) for i in body["items"])
        if page >= body["pages"]:
            return items
        page += 1


def test_export_download_matches_the_api(demo_db, staff_client):
    client = staff_client("clerk")
    api = _api_items(client, "jinnong")
    assert api

    got = client.get("/admin/exports", params={"register": "jinnong", "format": "csv"})
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="jinnong-' in disposition
    assert "filename*=UTF-8''" in disposition
    assert got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert {r["证书编号"] for r in rows} == set(api)
    for row in rows:
        item = api[row["证书编号"]]
        assert row["名称"] == item["name"]
        assert row["统一社会信用代码"] == item["enterprise"]["uscc"]
        assert row["有效期起"] == item["valid_from"]
        assert row["有效期至"] == (item["valid_until"] or "")

    got = client.get("/admin/exports", params={"register": "jinnong", "format": "xlsx"})
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(got.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "证书编号"
    assert {v[0] for v in values[1:]} == set(api)

    filtered = client.get(
        "/admin/exports", params={"register": "jinnong", "status": "active", "format": "csv"}
    )
    active = _api_items(client, "jinnong")
    listed = client.get(
        "/api/v1/entries", params={"register": "jinnong", "status": "active", "page_size": 100}
    ).json()
    numbers = {r["证书编号"] for r in csv.DictReader(io.StringIO(filtered.text.lstrip("\ufeff")))}
    assert numbers == {i["entry_no"] for i in listed["items"]} and numbers <= set(active)

    bad = client.get("/admin/exports", params={"register": "nope"})
    assert bad.status_code == 400 and "未知的名录" in bad.text
