"""``registry import`` and ``registry export`` as a clerk runs them (subprocesses against
the test database): the issue's acceptance with a 1,000-row workbook, and the options."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sheet_samples as samples

from registry.services.codes import token_for_entry
from registry.tables import AuditEvent, Entry


def registry(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=timeout,
    )


def counts(run) -> tuple[int, int]:
    async def go():
        return await Entry.count(), await AuditEvent.count()

    return run(go())


def test_thousand_rows_one_bad_then_fixed_then_exported_and_reimported(
    empty_db, run, client, tmp_path
):
    rows = samples.jinnong_rows(1000, bad=500)
    bad_file = samples.write_xlsx(tmp_path / "jinnong-bad.xlsx", rows)
    before = counts(run)

    failed = registry("import", str(bad_file), "--register", "jinnong")
    assert failed.returncode == 1, failed.stderr
    # data row 500 is spreadsheet row 501 (the header is row 1)
    assert "行 501，列 年销售额（万元）：“年销售额（万元）”应为数字" in failed.stdout
    assert "row 501, column 年销售额（万元）" in failed.stdout
    assert "有错误 1" in failed.stdout and "未写入任何数据" in failed.stderr
    assert counts(run) == before  # no entry, no audit event

    rows[499][samples.SALES] = 1888.8
    good_file = samples.write_xlsx(tmp_path / "jinnong.xlsx", rows)
    started = time.monotonic()
    done = registry("import", str(good_file), "--register", "jinnong")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新增 1000" in done.stdout and "Imported: 1000 created" in done.stdout
    assert "100%" in done.stderr  # the progress bar
    print(f"\n1,000-row import through the CLI: {elapsed:.1f} s")

    listing = client.get("/api/v1/entries", params={"register": "jinnong"}).json()
    assert listing["total"] == 1000
    entries_after, events_after = counts(run)
    assert entries_after == before[0] + 1000

    async def first_id():
        return (await Entry.select(Entry.id).where(Entry.entry_no == "JNCP-2024-0500"))[0]["id"]

    page = client.get(f"/V/{token_for_entry(run(first_id()))}")
    assert page.status_code == 200 and "JNCP-2024-0500" in page.text
    assert "真实有效" in page.text

    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"export.{fmt}"
        exported = registry("export", "--register", "jinnong", "--format", fmt, "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        assert "已导出 1000 条" in exported.stdout
        again = registry("import", str(out), "--register", "jinnong")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "未变 1000" in again.stdout and "新增 0，更新 0" in again.stdout
        assert counts(run) == (entries_after, events_after), fmt  # nothing written


def test_dry_run_and_valid_only(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(1000, bad=10)
    bad_file = samples.write_xlsx(tmp_path / "bad.xlsx", rows)
    before = counts(run)

    dry = registry("import", str(bad_file), "--register", "jinnong", "--dry-run")
    assert dry.returncode == 1 and "行 11，列 年销售额（万元）" in dry.stdout
    rows[9][samples.SALES] = 12
    good_file = samples.write_xlsx(tmp_path / "good.xlsx", rows)
    dry = registry("import", str(good_file), "--register", "jinnong", "--dry-run")
    assert dry.returncode == 0 and "试运行" in dry.stdout and "新增 1000" in dry.stdout
    assert counts(run) == before

    partial = registry("import", str(bad_file), "--register", "jinnong", "--valid-only")
    assert partial.returncode == 0, partial.stdout + partial.stderr
    assert "新增 999 条" in partial.stdout and "跳过有错误的 1 行" in partial.stdout
    assert counts(run)[0] == before[0] + 999


def test_gbk_csv_slash_dates_and_duplicate_numbers(empty_db, run, tmp_path):
    rows = samples.jinnong_rows(20)
    gbk = samples.write_csv(tmp_path / "gbk.csv", rows, encoding="gbk", date_style="slash")
    utf8 = samples.write_csv(tmp_path / "utf8.csv", rows, date_style="chinese")
    assert "2024/2/2" in gbk.read_bytes().decode("gbk")
    dry_gbk = registry("import", str(gbk), "--register", "jinnong", "--dry-run")
    dry_utf8 = registry("import", str(utf8), "--register", "jinnong", "--dry-run")
    assert dry_gbk.returncode == dry_utf8.returncode == 0, dry_gbk.stdout + dry_gbk.stderr
    assert dry_gbk.stdout == dry_utf8.stdout and "新增 20" in dry_gbk.stdout

    done = registry("import", str(gbk), "--register", "jinnong")
    assert done.returncode == 0, done.stderr
    again = registry("import", str(utf8), "--register", "jinnong")
    assert again.returncode == 0 and "未变 20" in again.stdout  # same data, either encoding

    rows[5][samples.NUMBER] = rows[2][samples.NUMBER]
    twice = samples.write_csv(tmp_path / "twice.csv", rows, encoding="gbk")
    before = counts(run)
    dup = registry("import", str(twice), "--register", "jinnong")
    assert dup.returncode == 1
    assert "行 4，列 证书编号：证书编号 JNCP-2024-0003 在文件中重复（另见第 7 行）" in dup.stdout
    assert "行 7，列 证书编号" in dup.stdout
    assert counts(run) == before


def test_bad_usage_exits_2(empty_db, tmp_path):
    missing = registry("import", str(tmp_path / "nope.xlsx"), "--register", "jinnong")
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
    sample = samples.write_csv(tmp_path / "ok.csv", samples.jinnong_rows(1))
    unknown = registry("import", str(sample), "--register", "no_such_register")
    assert unknown.returncode == 2 and "未知的名录" in unknown.stderr
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    refused = registry("import", str(picture), "--register", "jinnong")
    assert refused.returncode == 2 and ".xlsx" in refused.stderr
    assert registry("import", str(sample)).returncode == 2  # --register is required
    no_format = registry("export", "--register", "jinnong", "-o", str(tmp_path / "x.txt"))
    assert no_format.returncode == 2 and "--format" in no_format.stderr
