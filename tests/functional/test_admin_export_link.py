"""The entries list offers an export of exactly the list on screen."""

from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook


def test_export_link_carries_the_filters(demo_db, staff_client, client):
    staff = staff_client("clerk")
    listing = staff.get(
        "/admin/entries", params={"register": "jinnong", "subtype": "", "status": "active"}
    )
    assert listing.status_code == 200
    links = [html.unescape(h) for h in re.findall(r'href="(/admin/exports\?[^"]+)"', listing.text)]
    xlsx = next(link for link in links if "format=xlsx" in link)
    assert "register=jinnong" in xlsx and "status=active" in xlsx
    download = staff.get(xlsx)
    assert download.status_code == 200, download.text[:300]
    sheet = load_workbook(io.BytesIO(download.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], [r for r in rows[1:] if any(r)]
    numbers = {r[header.index("证书编号")] for r in body}
    api = client.get(
        "/api/v1/entries", params={"register": "jinnong", "status": "active", "page_size": 100}
    ).json()
    assert numbers == {item["entry_no"] for item in api["items"]}
    assert len(numbers) == api["total"] > 0


def test_no_export_link_without_a_register(demo_db, staff_client):
    listing = staff_client("clerk").get("/admin/entries")
    assert "/admin/exports?" not in listing.text
    assert "选择一个名录后可导出当前列表。" in listing.text
