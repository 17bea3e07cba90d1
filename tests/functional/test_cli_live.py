"""A real `registry serve` process: scan what the QR codes say, follow it, read the page.

The server's base URL is http://127.0.0.1:PORT, so every code printed in a QR image
points back at it: HTTP://127.0.0.1:PORT/V/TOKEN, all upper case."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from registry.services.entries import today

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# A few entries of every status and register, and GI users with their own codes.
QR_SAMPLE = [
    "DEMO-ZHLZH-TJ-0001",  # active, no end date
    "DEMO-ZHLZH-TJ-0006",  # conditional
    "DEMO-TJMP-2017-0004",  # revoked
    "DEMO-JNQP-0004",  # suspended
    "GF120117250006",  # withdrawn
    "WGH-2017-0001",  # expired
    "ORG-DEMO-2025-0101",  # organic, free-format number
]


def token_of(verify_url: str) -> str:
    return verify_url.rsplit("/V/", 1)[1]


def forge(token: str, position: int = -1) -> str:
    chars = list(token)
    chars[position] = CROCKFORD[(CROCKFORD.index(chars[position]) + 1) % len(CROCKFORD)]
    return "".join(chars)


@pytest.fixture
def http(demo_db, live_server):
    with httpx.Client(base_url=live_server, timeout=15) as client:
        yield client


@pytest.fixture
def live_items(http):
    items, page = [], 1
    while True:
        response = http.get("/api/v1/entries", params={"page_size": 100, "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if page >= body["pages"]:
            break
        page += 1
    return {i["entry_no"]: i for i in items}


def test_every_listed_code_opens_its_verification_page(http, live_server, live_items):
    assert len(live_items) >= 60
    host = live_server.upper()
    pattern = re.compile(rf"^{re.escape(host)}/V/[0-9A-Z]{{24}}$")
    for item in live_items.values():
        url = item["verify_url"]
        assert pattern.match(url), url
        response = http.get(url)  # the upper-case scheme and host, as a phone would open it
        assert response.status_code == 200, (item["entry_no"], response.status_code)
        assert item["name"] in response.text, item["entry_no"]
        assert 'data-result="' in response.text


def _decode(zbarimg: str, path) -> str:
    result = subprocess.run(
        [zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_qr_images_decode_to_the_verification_url(http, live_items, require_tool, tmp_path):
    zbarimg = require_tool("zbarimg", "decodes the QR images the server renders")
    gi = http.get("/api/v1/entries/DEMO-GI-TM-0001").json()
    targets = [(no, live_items[no]) for no in QR_SAMPLE]
    targets += [(u["user_no"], u) for u in gi["authorised_users"][:2]]
    for label, item in targets:
        png = http.get(item["qr_png_url"])
        assert png.status_code == 200, label
        assert png.headers["content-type"] == "image/png"
        path = tmp_path / f"{label}.png"
        path.write_bytes(png.content)
        decoded = _decode(zbarimg, path)
        assert decoded == item["verify_url"], label
        # And what the phone then opens is the right page.
        page = http.get(decoded)
        assert page.status_code == 200, label


def test_revoked_entry_page_says_so_with_its_reason(http, live_items):
    item = live_items["DEMO-TJMP-2017-0004"]
    detail = http.get(f"/api/v1/entries/{item['entry_no']}").json()
    assert detail["status"] == "revoked" and detail["status_reason"]
    page = http.get(item["verify_url"])
    assert page.status_code == 200
    assert "撤销" in page.text
    assert detail["status_reason"] in page.text
    assert 'data-result="revoked"' in page.text


def test_one_changed_character_is_refused(http, live_items):
    url = live_items["DEMO-ZHLZH-TJ-0001"]["verify_url"]
    token = token_of(url)
    forged = forge(token, 7)
    page = http.get(url.replace(token, forged))
    assert page.status_code == 404
    assert "这不是本名录签发的真实代码" in page.text
    api = http.get(f"/api/v1/verify/{forged}")
    assert api.status_code == 404
    assert api.json()["result"] == "not_genuine"
    genuine = http.get(f"/api/v1/verify/{token}")
    assert genuine.status_code == 200 and genuine.json()["result"] == "valid"


def test_server_sees_a_subtype_added_by_another_process(http, live_items, run):
    from registry.services import cache
    from registry.services.entries import NewEntry, create_entry
    from registry.services.registers import invalidate_catalog
    from registry.tables import Entry, Register, StatusChange, Subtype

    assert http.get("/registers/jinnong").status_code == 200  # the server has its catalogue
    holder_uscc = live_items["DEMO-JNQY-0001"]["enterprise"]["uscc"]

    async def add() -> str:
        # What `registry migrate` does when a new release ships a new subtype.
        register = await Register.objects().get(Register.code == "jinnong")
        await Subtype(
            register=register.id,
            code="jinnong_test_new",
            name_zh="测试新类别",
            name_en="Test subtype",
            authority_zh="测试机关",
            authority_en="Test authority",
            number_format="JNTEST-{seq:04d}",
            extra_fields="[]",
            sort_order=99,
        ).save()
        invalidate_catalog()
        entry = await create_entry(
            NewEntry(
                subtype="jinnong_test_new",
                name="测试新品牌",
                enterprise_uscc=holder_uscc,
                valid_from=today(),
            ),
            signed_by="测试员",
        )
        return entry.entry_no

    async def remove(entry_no: str) -> None:
        row = await Entry.objects().get(Entry.entry_no == entry_no)
        if row is not None:
            await StatusChange.delete().where(StatusChange.entry == row.id)
            await Entry.delete().where(Entry.id == row.id)
        await Subtype.delete().where(Subtype.code == "jinnong_test_new")
        invalidate_catalog()
        cache.invalidate_all()

    entry_no = run(add())
    try:
        listing = http.get("/api/v1/entries", params={"register": "jinnong", "page_size": 100})
        assert listing.status_code == 200
        assert entry_no in {i["entry_no"] for i in listing.json()["items"]}
        assert http.get(f"/entries/{entry_no}").status_code == 200
    finally:
        run(remove(entry_no))
    # The demo listings answer again once the new rows are gone.
    assert http.get("/registers/jinnong").status_code == 200
