"""The spreadsheet service on a real database: reading .xlsx/.csv (UTF-8, GBK), the
row-by-row report, all-or-nothing writes, updates, and export that re-imports unchanged."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sheet_samples as samples

from registry import statuses
from registry.services import spreadsheets
from registry.services.actors import Actor
from registry.services.entries import EntryFilters, change_entry_status, get_entry
from registry.services.errors import ServiceError
from registry.tables import AuditEvent, Enterprise, Entry

CLERK = Actor("clerk-sheet", "clerk", "表格受理员")


def counts(run) -> tuple[int, int, int]:
    async def go():
        return (await Entry.count(), await Enterprise.count(), await AuditEvent.count())

    return run(go())


def validate(run, source, register="jinnong", filename=None):
    sheet = spreadsheets.read_rows(source, filename)
    return run(spreadsheets.validate_import(sheet, register))


def issues_by_row(report) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for issue in report.errors:
        found.setdefault(issue.row, []).append((issue.column, issue.zh))
    return found


# --- reading --------------------------------------------------------------------------


def test_dates_in_every_common_spelling():
    assert spreadsheets.parse_date("2025-01-31") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date("2025/1/31") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date("2025.1.31") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date("2025年1月31日") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date("20250131") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date("2025-01-31 00:00:00") == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date(dt.datetime(2025, 1, 31)) == dt.date(2025, 1, 31)
    assert spreadsheets.parse_date(45688) == dt.date(2025, 1, 31)  # Excel serial day
    assert spreadsheets.parse_date("") is None
    for bad in ("2025-02-30", "31/1/2025", "明天", "2025-13-01"):
        with pytest.raises(ValueError):
            spreadsheets.parse_date(bad)


def test_csv_in_utf8_with_and_without_bom_and_gbk_read_the_same(tmp_path):
    rows = samples.jinnong_rows(5)
    sheets = [
        spreadsheets.read_rows(samples.write_csv(tmp_path / f"{enc}.csv", rows, encoding=enc))
        for enc in ("utf-8-sig", "utf-8", "gbk", "gb18030")
    ]
    first = sheets[0]
    assert first.headers == samples.HEADER and len(first.rows) == 5
    for sheet in sheets[1:]:
        assert sheet.headers == first.headers and sheet.rows == first.rows
    assert first.rows[0][1][samples.HEADER.index("企业名称")].startswith("天津市")


def test_files_are_checked_by_content(tmp_path):
    with pytest.raises(ServiceError, match="xls"):
        spreadsheets.read_rows(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls")
    with pytest.raises(ServiceError, match="not an Excel workbook"):
        spreadsheets.read_rows(b"not a zip at all", "fake.xlsx")
    with pytest.raises(ServiceError, match=r"Only \.xlsx and \.csv"):
        spreadsheets.read_rows(b"\x89PNG\r\n\x1a\n", "picture.png")
    with pytest.raises(ServiceError, match="damaged"):
        spreadsheets.read_rows(b"PK\x03\x04" + b"junk" * 50, "broken.xlsx")
    with pytest.raises(ServiceError, match="empty"):
        spreadsheets.read_rows(b"  \n", "empty.csv")
    with pytest.raises(ServiceError, match="No header row"):
        spreadsheets.read_rows("甲,乙\n1,2\n".encode(), "nohead.csv")


def test_a_title_row_above_the_header_keeps_spreadsheet_row_numbers(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(3, bad=2)
    path = samples.write_csv(tmp_path / "title.csv", rows)
    text = path.read_text("utf-8-sig")
    path.write_text("2024年津农精品名录,,\n" + text, "utf-8-sig")
    report = validate(run, path)
    assert [p.row for p in report.rows] == [3, 4, 5]
    assert report.errors[0].row == 4 and report.errors[0].column == "年销售额（万元）"


# --- validating and writing -----------------------------------------------------------


def test_import_export_reimport_round_trip(empty_db, run, tmp_path):
    before = counts(run)
    report = validate(run, samples.write_xlsx(tmp_path / "j.xlsx", samples.jinnong_rows(30)))
    assert report.ok and report.counts == {"create": 30, "update": 0, "unchanged": 0, "error": 0}
    assert counts(run) == before  # validating writes nothing

    result = run(spreadsheets.apply_import(report, CLERK))
    assert (result.created, result.updated, result.skipped) == (30, 0, 0)
    entries, enterprises, events = counts(run)
    assert entries == before[0] + 30 and enterprises == before[1] + 30
    # one event per enterprise and per entry, and one for the import itself
    assert events == before[2] + 30 + 30 + 1
    entry = run(get_entry("JNCP-2024-0007"))
    assert entry.status == statuses.ACTIVE and entry.district_code
    assert entry.valid_until == dt.date(2027, 8, 7)  # the subtype's 3-year term
    assert entry.extra["credit_standing"] in ("good", "fair")

    for fmt in ("xlsx", "csv"):
        exported = run(spreadsheets.export_file(EntryFilters(register="jinnong"), fmt))
        assert exported.count == 30
        again = validate(run, exported.data, filename=exported.filename)
        assert again.counts == {"create": 0, "update": 0, "unchanged": 30, "error": 0}, fmt
        assert not again.warnings, [w.zh for w in again.warnings]
        result = run(spreadsheets.apply_import(again, CLERK))
        assert (result.created, result.updated, result.unchanged) == (0, 0, 30)
    assert counts(run) == (entries, enterprises, events)  # no writes, no audit events


def test_every_bad_cell_is_reported_by_row_and_column(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(12)
    rows[0][samples.SALES] = "abc"  # row 2
    rows[1][samples.QUALITY] = ""  # row 3: required field empty
    rows[2][samples.HEADER.index("所在区")] = "朝阳区"  # row 4: not in Tianjin
    rows[3][samples.VALID_FROM] = "2025-02-30"  # row 5
    rows[4][samples.HEADER.index("类别")] = "企业名录"  # row 6: no such subtype
    rows[6][samples.NUMBER] = rows[5][samples.NUMBER]  # rows 7 and 8: same number
    uscc = rows[8][samples.HEADER.index("统一社会信用代码")]
    rows[8][samples.HEADER.index("统一社会信用代码")] = uscc[:17] + (
        "0" if uscc[17] != "0" else "1"
    )  # row 10: unknown enterprise with a wrong check character
    rows[9][samples.HEADER.index("企业信用状况")] = "优秀"  # row 11: not a choice
    rows[10][samples.SALES] = "-5"  # row 12
    path = samples.write_xlsx(tmp_path / "bad.xlsx", rows)
    before = counts(run)
    report = validate(run, path)
    found = issues_by_row(report)
    assert set(found) == {2, 3, 4, 5, 6, 7, 8, 10, 11, 12}, found
    assert found[2] == [("年销售额（万元）", "“年销售额（万元）”应为数字，例如 1200.5。")]
    assert found[3] == [("质量控制体系", "请填写“质量控制体系”。")]
    assert found[4][0][0] == "所在区" and "朝阳区" in found[4][0][1]
    assert found[5][0][0] == "有效期起" and "2025-02-30" in found[5][0][1]
    assert found[6][0][0] == "类别" and "产品品牌" in found[6][0][1]
    assert found[7][0][0] == "证书编号" and "重复" in found[7][0][1] and "8" in found[7][0][1]
    assert found[8][0][0] == "证书编号" and "7" in found[8][0][1]
    assert found[10][0][0] == "统一社会信用代码" and "校验位" in found[10][0][1]
    assert found[11][0][0] == "企业信用状况" and "良好" in found[11][0][1]
    assert found[12][0][0] == "年销售额（万元）" and "负数" in found[12][0][1]
    assert report.counts["error"] == 10 and report.counts["create"] == 2
    for issue in report.errors:
        assert issue.en and issue.zh

    with pytest.raises(ServiceError, match="nothing was written"):
        run(spreadsheets.apply_import(report, CLERK))
    assert counts(run) == before
    result = run(spreadsheets.apply_import(report, CLERK, valid_only=True))
    assert (result.created, result.skipped) == (2, 10)
    assert counts(run)[0] == before[0] + 2


def test_a_missing_required_column_blocks_the_whole_file(empty_db, run, tmp_path):
    header = [h for h in samples.HEADER if h != "质量控制体系"]
    rows = [r[: samples.QUALITY] + r[samples.QUALITY + 1 :] for r in samples.jinnong_rows(4)]
    report = validate(run, samples.write_csv(tmp_path / "cols.csv", rows, header=header))
    assert len(report.file_errors) == 1
    assert report.file_errors[0].row == 1 and report.file_errors[0].column == "质量控制体系"
    with pytest.raises(ServiceError):
        run(spreadsheets.apply_import(report, CLERK, valid_only=True))

    header = [h for h in samples.HEADER if h != "证书编号"] + ["备注栏"]
    rows = [r[1:] + ["x"] for r in samples.jinnong_rows(2)]
    report = validate(run, samples.write_csv(tmp_path / "nonum.csv", rows, header=header))
    assert [i.column for i in report.file_errors] == ["证书编号"]
    assert [i.column for i in report.file_warnings] == ["备注栏"]


def test_english_headers_codes_and_slash_dates_are_accepted(empty_db, run, tmp_path):
    header = [
        "entry_no",
        "subtype",
        "name",
        "name_en",
        "enterprise_uscc",
        "enterprise_name",
        "district",
        "industry",
        "valid_from",
        "valid_until",
        "trademark_no",
        "annual_sales",
        "credit_standing",
        "quality_control",
    ]
    rows = samples.jinnong_rows(3)
    for row in rows:
        row[1] = "jinnong_product"
        row[6] = "120115"
        row[7] = "grain"
        row[12] = "good"
    path = samples.write_csv(tmp_path / "en.csv", rows, header=header, date_style="slash")
    report = validate(run, path)
    assert report.ok, [i.en for i in report.errors]
    run(spreadsheets.apply_import(report, CLERK))
    entry = run(get_entry("JNCP-2024-0001"))
    assert entry.valid_from == dt.date(2024, 2, 2)
    assert (entry.district_code, entry.industry) == ("120115", "grain")


def test_changed_rows_update_and_status_is_never_imported(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(3)
    run(
        spreadsheets.apply_import(
            validate(run, samples.write_xlsx(tmp_path / "a.xlsx", rows)), CLERK
        )
    )
    run(change_entry_status("JNCP-2024-0003", "suspend", "抽检不合格", Actor.system("tests")))
    exported = run(spreadsheets.export_file(EntryFilters(register="jinnong"), "xlsx"))

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(exported.data))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header[: len(spreadsheets.BASE_COLUMNS)] == [c.header for c in spreadsheets.BASE_COLUMNS]
    sheet.cell(2, header.index("名称") + 1, "新名称小站稻")
    sheet.cell(3, header.index("状态") + 1, "撤销")  # asks to revoke: ignored
    sheet.cell(4, header.index("状态") + 1, "有效")  # asks to lift the suspension: ignored
    out = io.BytesIO()
    workbook.save(out)
    events = counts(run)[2]

    report = validate(run, out.getvalue(), filename="edited.xlsx")
    assert [p.action for p in report.rows] == ["update", "unchanged", "unchanged"]
    assert report.rows[0].changed == ["名称"]
    assert {w.row for w in report.warnings} == {3, 4}
    assert all(w.column == "状态" for w in report.warnings)
    run(spreadsheets.apply_import(report, CLERK))
    assert run(get_entry("JNCP-2024-0001")).name == "新名称小站稻"
    assert run(get_entry("JNCP-2024-0002")).status == statuses.ACTIVE
    assert run(get_entry("JNCP-2024-0003")).status == statuses.SUSPENDED

    async def last_events():
        return (
            await AuditEvent.select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.seq > events)
            .order_by(AuditEvent.seq)
        )

    assert [e["action"] for e in run(last_events())] == ["entry.update", "entry.import"]
    assert run(last_events())[0]["actor"] == CLERK.signature


def test_a_new_row_cannot_arrive_revoked(empty_db, run, tmp_path):
    header = samples.HEADER + ["状态"]
    rows = [r + [s] for r, s in zip(samples.jinnong_rows(3), ["有效", "", "撤销"], strict=True)]
    report = validate(run, samples.write_csv(tmp_path / "s.csv", rows, header=header))
    assert [p.action for p in report.rows] == ["create", "create", "error"]
    assert report.errors[0].column == "状态" and "登记管理" in report.errors[0].zh


def test_a_failure_half_way_leaves_nothing(empty_db, run, tmp_path, monkeypatch):
    report = validate(run, samples.write_xlsx(tmp_path / "h.xlsx", samples.jinnong_rows(8)))
    before = counts(run)
    real = spreadsheets.create_entry
    calls = []

    async def flaky(new, actor, reason=""):
        calls.append(new.entry_no)
        if len(calls) == 5:
            raise ServiceError("模拟故障。", "Simulated failure.")
        return await real(new, actor, reason=reason)

    monkeypatch.setattr(spreadsheets, "create_entry", flaky)
    with pytest.raises(spreadsheets.ImportFailed) as failed:
        run(spreadsheets.apply_import(report, CLERK))
    assert failed.value.row == 6 and "rolled back" in failed.value.en
    assert counts(run) == before  # four entries, their enterprises and events: all gone


def test_reviewer_may_not_import(empty_db, run, tmp_path):
    report = validate(run, samples.write_xlsx(tmp_path / "r.xlsx", samples.jinnong_rows(2)))
    with pytest.raises(ServiceError) as refused:
        run(spreadsheets.apply_import(report, Actor("rev", "reviewer")))
    assert refused.value.status_code == 403


def test_export_guards_against_formulas_and_reads_back(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(2)
    rows[0][samples.HEADER.index("名称")] = '=HYPERLINK("http://x","点我")'
    rows[1][samples.HEADER.index("名称")] = "+86 品牌"
    run(
        spreadsheets.apply_import(validate(run, samples.write_csv(tmp_path / "f.csv", rows)), CLERK)
    )
    csv_file = run(spreadsheets.export_file(EntryFilters(register="jinnong"), "csv"))
    text = csv_file.data.decode("utf-8-sig")
    assert csv_file.data.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" in text and "'+86" in text
    xlsx_file = run(spreadsheets.export_file(EntryFilters(register="jinnong"), "xlsx"))

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx_file.data)).active
    assert sheet.cell(2, 3).data_type == "s" and sheet.cell(2, 3).value.startswith("=HYPERLINK")
    for exported in (csv_file, xlsx_file):
        report = validate(run, exported.data, filename=exported.filename)
        assert report.counts["unchanged"] == 2, [i.zh for i in report.errors]


def test_export_needs_a_known_register(empty_db, run):
    with pytest.raises(ServiceError, match="register"):
        run(spreadsheets.export_file(EntryFilters(), "xlsx"))
    with pytest.raises(ServiceError, match="Unknown register"):
        run(spreadsheets.export_file(EntryFilters(register="nope"), "csv"))
    with pytest.raises(ServiceError, match="xlsx or csv"):
        run(spreadsheets.export_file(EntryFilters(register="jinnong"), "pdf"))


def test_every_register_exports_and_reimports_unchanged(demo_db, run):
    """The demo data covers every register, subtype and status."""
    from registry.services.registers import get_catalog

    for register in run(get_catalog()).registers:
        for fmt in ("xlsx", "csv"):
            exported = run(spreadsheets.export_file(EntryFilters(register=register.code), fmt))
            assert exported.count > 0, register.code
            report = validate(run, exported.data, register.code, exported.filename)
            assert report.counts["unchanged"] == exported.count, (
                register.code,
                fmt,
                [(i.row, i.column, i.en) for i in report.errors],
            )
            assert not report.warnings, [(w.row, w.column, w.en) for w in report.warnings]


def test_cells_longer_than_the_database_allows_are_row_errors(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(2)
    rows[1][samples.HEADER.index("名称")] = "长" * 201
    report = validate(run, samples.write_csv(tmp_path / "long.csv", rows))
    assert [p.action for p in report.rows] == ["create", "error"]
    assert report.errors[0].column == "名称" and "最多 200 个字符" in report.errors[0].zh
