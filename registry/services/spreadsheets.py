"""Spreadsheet import and export of entries (.xlsx and .csv), shared by the CLI and /admin.

The file format (docs/spreadsheets.md): one header row with the Chinese column names
below (English keys accepted too), then one entry per row; one column per extra field
of the register's subtypes, headed by the field's Chinese label (or its key).

Import is all or nothing: ``validate_import`` plans every row (create, update,
unchanged) or lists its errors by spreadsheet row and column, and ``apply_import``
writes only when every row is valid (or, when asked, the valid rows only), in ONE
write transaction through the entries service, so each change is validated, signed
and audited exactly like an edit in /admin.  Rows equal to the stored entry write
nothing, so re-importing an exported file changes nothing.

Status is never changed by an import: a status change needs a reason and a signer
with the right role (the status actions).  New rows are created active; a new row
whose file status says otherwise (revoked, suspended...) is an error, and a stored
entry whose file status differs from its current one gets a warning and keeps it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from registry import statuses
from registry.db import write_transaction
from registry.districts import DISTRICTS_BY_CODE, TIANJIN_DISTRICTS
from registry.services import audit
from registry.services.actors import Actor, as_actor, require
from registry.services.enterprises import upsert_enterprise
from registry.services.entries import (
    MAX_PAGE_SIZE,
    EntryChanges,
    EntryFilters,
    EntryRecord,
    NewEntry,
    create_entry,
    get_entries_by_number,
    list_entries,
    today,
    update_entry,
    validate_extra,
    validate_filters,
    validate_new_entry,
)
from registry.services.errors import ServiceError
from registry.services.registers import Catalog, ExtraField, RegisterInfo, SubtypeInfo, get_catalog
from registry.tables import Enterprise
from registry.uscc import check_uscc

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
#: The header row is looked for in the first rows (a title row above it is common).
HEADER_SEARCH_ROWS = 10
FORMATS = ("xlsx", "csv")
#: CSV cells starting with these are formulas to Excel: exported with a leading ' .
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], None]


# --- columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # entry_no ... description, or "extra.<field key>"
    header: str  # the Chinese header written on export
    header_en: str
    aliases: tuple[str, ...] = ()
    field: ExtraField | None = None


BASE_COLUMNS: tuple[Column, ...] = (
    Column("entry_no", "证书编号", "Entry no.", ("entry_no", "certificate_no", "编号")),
    Column("subtype", "类别", "Subtype", ("subtype",)),
    Column("name", "名称", "Name", ("name", "品牌名称", "产品名称")),
    Column("name_en", "英文名称", "English name", ("name_en",)),
    Column("enterprise_uscc", "统一社会信用代码", "Credit code", ("enterprise_uscc", "uscc")),
    Column("enterprise_name", "企业名称", "Enterprise", ("enterprise_name", "enterprise")),
    Column("district", "所在区", "District", ("district", "district_code")),
    Column("industry", "行业", "Industry", ("industry",)),
    Column("valid_from", "有效期起", "Valid from", ("valid_from",)),
    Column("valid_until", "有效期至", "Valid until", ("valid_until",)),
    Column("status", "状态", "Status", ("status",)),
    Column("authority", "发证机关", "Issuing authority", ("authority", "authority_zh")),
    Column("description", "说明", "Description", ("description",)),
)
_BASE_BY_KEY = {c.key: c for c in BASE_COLUMNS}
#: ServiceError.field from the entries service -> column key.
_FIELD_TO_COLUMN = {
    "entry_no": "entry_no",
    "subtype": "subtype",
    "name": "name",
    "district_code": "district",
    "industry": "industry",
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "enterprise_uscc": "enterprise_uscc",
    "uscc": "enterprise_uscc",
}


#: The database's column lengths: a longer cell is a row error, not a failed write.
MAX_LENGTHS = {
    "entry_no": 64,
    "name": 200,
    "name_en": 300,
    "enterprise_name": 200,
    "authority": 200,
}


def _norm(header: Any) -> str:
    text = str(header or "").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text).strip("*").lower()


def columns_for(register: RegisterInfo) -> list[Column]:
    """The register's columns: the common ones, then one per extra field key."""
    extras: dict[str, Column] = {}
    for subtype in register.subtypes:
        for f in subtype.extra_fields:
            known = extras.get(f.key)
            if known is None:
                extras[f.key] = Column(
                    "extra." + f.key, f.label_zh, f.label_en, (f.key, f.label_en), f
                )
            elif f.label_zh not in known.aliases and f.label_zh != known.header:
                # One key, another label in another subtype: accept both headers.
                extras[f.key] = dataclasses.replace(known, aliases=known.aliases + (f.label_zh,))
    return list(BASE_COLUMNS) + list(extras.values())


def _alias_map(columns: list[Column]) -> dict[str, Column]:
    found: dict[str, Column] = {}
    # Extra fields first: a common column's name always wins over a field's label.
    for column in sorted(columns, key=lambda c: not c.key.startswith("extra.")):
        for alias in (column.header, column.header_en, *column.aliases):
            found[_norm(alias)] = column
    return found


def _required_keys(register: RegisterInfo) -> list[str]:
    keys = ["entry_no", "name", "enterprise_uscc", "valid_from"]
    if len(register.subtypes) > 1:
        keys.insert(1, "subtype")
    return keys


# --- reading files ----------------------------------------------------------------------


@dataclass
class Sheet:
    """A spreadsheet's header and rows, with the row numbers the spreadsheet shows."""

    filename: str
    kind: str  # xlsx or csv
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[Any]]]


def detect_kind(data: bytes, filename: str) -> str:
    """xlsx or csv, checked by content; anything else gets a clear refusal."""
    suffix = Path(filename).suffix.lower()
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise ServiceError(
            "这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再导入。",
            "This is an old Excel (.xls) file: save it as .xlsx in Excel, then import it.",
            field="file",
        )
    if data[:4] == b"PK\x03\x04":
        if suffix not in ("", ".xlsx", ".xlsm"):
            raise ServiceError(
                f"文件内容是 Excel 工作簿，但扩展名是 {suffix}，请改为 .xlsx。",
                f"The file is an Excel workbook but is named {suffix}: name it .xlsx.",
                field="file",
            )
        return "xlsx"
    if suffix in (".xlsx", ".xlsm"):
        raise ServiceError(
            "文件扩展名是 .xlsx，但内容不是 Excel 工作簿，文件可能已损坏。",
            "The file is named .xlsx but is not an Excel workbook; it may be damaged.",
            field="file",
        )
    if suffix not in ("", ".csv", ".txt"):
        raise ServiceError(
            f"只能导入 .xlsx 或 .csv 文件，不支持 {suffix}。",
            f"Only .xlsx and .csv files can be imported, not {suffix}.",
            field="file",
        )
    if b"\x00" in data[:4096]:
        raise ServiceError(
            "文件不是文本格式的 CSV，请导入 .xlsx 或 .csv 文件。",
            "The file is not a text CSV: import a .xlsx or .csv file.",
            field="file",
        )
    return "csv"


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ServiceError(
        "无法识别 CSV 文件的编码，请另存为“CSV UTF-8”或 GBK 编码后再导入。",
        "Cannot tell the CSV file's encoding: save it as 'CSV UTF-8' or GBK and try again.",
        field="file",
    )


def read_rows(source: Path | str | bytes, filename: str | None = None) -> Sheet:
    """Read an .xlsx (first visible sheet) or .csv file into a Sheet."""
    if isinstance(source, bytes):
        data = source
        name = filename or "upload"
    else:
        path = Path(source)
        name = filename or path.name
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise _too_large()
        data = path.read_bytes()
    if not data.strip():
        raise ServiceError("文件是空的。", "The file is empty.", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    kind = detect_kind(data, name)
    raw_rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    header_row = 0
    headers: list[str] = []
    rows: list[tuple[int, list[Any]]] = []
    known = {_norm(a) for c in BASE_COLUMNS for a in (c.header, c.header_en, *c.aliases)}
    for number, values in raw_rows:
        if not header_row:
            texts = [_cell_text(v, kind) for v in values]
            if sum(1 for t in texts if _norm(t) in known) >= 2:
                header_row, headers = number, texts
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if all(_cell_text(v, kind) == "" for v in values):
            continue
        rows.append((number, list(values)))
        if len(rows) > MAX_ROWS:
            raise ServiceError(
                f"一次最多导入 {MAX_ROWS} 行，请分成几个文件。",
                f"At most {MAX_ROWS} rows per file: split it.",
                field="file",
            )
    if not header_row:
        raise ServiceError(
            "找不到表头：第一行应为列名，例如“证书编号、类别、名称、统一社会信用代码、有效期起”。",
            "No header row found: the first row must name the columns, for example "
            "证书编号, 类别, 名称, 统一社会信用代码, 有效期起 (or entry_no, subtype, name, "
            "enterprise_uscc, valid_from).",
            field="file",
        )
    return Sheet(name, kind, header_row, headers, rows)


def _too_large() -> ServiceError:
    mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    return ServiceError(
        f"文件超过 {mb} MB，请分成几个文件导入。",
        f"The file is larger than {mb} MB: split it into several files.",
        field="file",
    )


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ServiceError(
            "无法读取这个 Excel 文件，可能已损坏或加密。请在 Excel 中另存为 .xlsx 后重试。",
            f"Cannot read this Excel file (damaged or encrypted?): {exc}. Save it as .xlsx "
            "in Excel and try again.",
            field="file",
        ) from None
    try:
        sheet = workbook.active or workbook.worksheets[0]
        rows = [(n, tuple(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return rows


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(n, row) for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ServiceError(
            f"CSV 文件格式有误：{exc}", f"The CSV file is malformed: {exc}", field="file"
        ) from None


def _cell_text(value: Any, kind: str = "xlsx") -> str:
    """A cell as text: numbers without a spurious .0, dates as 2025-01-31."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if kind == "csv" and len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]  # our own export's guard against formula injection
    return text


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from an Excel date cell or text: 2025-01-31, 2025/1/31, 2025年1月31日, 20250131.

    None for an empty cell; ValueError when it is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            text = str(int(value))
        elif 1 <= value < 2958466:  # an Excel serial day number in a cell not shown as a date
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        else:
            raise ValueError(value)
    else:
        text = str(value).strip()
        text = re.split(r"[ T]", text, maxsplit=1)[0] if not text.endswith("日") else text
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    raise ValueError(text)


def parse_district(text: str) -> str:
    """A district code from a code (120101) or a name (和平区, 和平, Heping); "" for blank."""
    text = text.strip()
    if not text:
        return ""
    if text in DISTRICTS_BY_CODE:
        return text
    for d in TIANJIN_DISTRICTS:
        if text in (d.name_zh, d.name_zh.removesuffix("区"), d.name_zh.removesuffix("新区")) or (
            text.lower() == d.name_en.lower()
        ):
            return d.code
    raise ServiceError(
        f"未知的区：{text}。请填写天津市的区名（如 和平区）或行政区划代码（如 120101）。",
        f"Unknown district {text}. Use a Tianjin district name (和平区) or code (120101).",
        field="district_code",
    )


def _parse_subtype(text: str, register: RegisterInfo) -> SubtypeInfo:
    if not text and len(register.subtypes) == 1:
        return register.subtypes[0]
    for s in register.subtypes:
        if text in (s.code, s.name_zh) or text.lower() == s.name_en.lower():
            return s
    names = "、".join(s.name_zh for s in register.subtypes)
    codes = ", ".join(s.code for s in register.subtypes)
    if not text:
        raise ServiceError(f"请填写类别：{names}。", f"The subtype is required: {codes}.")
    raise ServiceError(
        f"“{register.name_zh}”没有类别“{text}”。可选：{names}。",
        f"{register.name_en} has no subtype '{text}'. Valid: {codes}.",
    )


def _parse_industry(text: str, register: RegisterInfo) -> str:
    if not text:
        return ""
    for item in register.industries:
        if text in (item["code"], item["zh"]) or text.lower() == item["en"].lower():
            return item["code"]
    names = "、".join(i["zh"] for i in register.industries)
    codes = ", ".join(i["code"] for i in register.industries)
    raise ServiceError(
        f"未知的行业：{text}。可选：{names}。", f"Unknown industry '{text}'. Valid: {codes}."
    )


def _parse_status(text: str) -> str | None:
    if not text:
        return None
    for code, label in statuses.LABELS.items():
        if text in (code, label.zh) or text.lower() in (label.en.lower(), code):
            return code
    raise ServiceError(
        f"无法识别的状态：{text}。",
        f"Unknown status '{text}'.",
    )


def _parse_choice(f: ExtraField, text: str) -> str:
    for choice in f.choices:
        if text in (choice["value"], choice.get("zh", "")) or (
            text.lower() == str(choice.get("en", "")).lower()
        ):
            return choice["value"]
    return text  # the entries service explains the valid choices


# --- validation -------------------------------------------------------------------------


@dataclass
class Issue:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # the header as written in the file
    zh: str
    en: str

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class RowPlan:
    row: int
    entry_no: str
    name: str
    enterprise_name: str
    subtype_code: str
    action: str = "error"  # create, update, unchanged, error
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # headers of the columns that change
    new: NewEntry | None = None
    changes: EntryChanges | None = None
    #: (uscc, name, district) of an enterprise this row needs created first.
    new_enterprise: tuple[str, str, str] | None = None


@dataclass
class ImportReport:
    register_code: str
    filename: str
    rows: list[RowPlan]
    file_errors: list[Issue] = field(default_factory=list)
    file_warnings: list[Issue] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for plan in self.rows:
            counts[plan.action] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(p.action != "error" for p in self.rows)

    @property
    def errors(self) -> list[Issue]:
        return self.file_errors + [i for p in self.rows for i in p.errors]

    @property
    def warnings(self) -> list[Issue]:
        return self.file_warnings + [i for p in self.rows for i in p.warnings]

    @property
    def writable(self) -> int:
        return sum(1 for p in self.rows if p.action in ("create", "update"))


class _Row:
    """One row being checked: its cells by column key, and the issues found."""

    def __init__(
        self, number: int, cells: dict[str, Any], headers: dict[str, str], kind: str
    ) -> None:
        self.number = number
        self.cells = cells
        self.headers = headers
        self.kind = kind
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def raw(self, key: str) -> Any:
        return self.cells.get(key)

    def text(self, key: str) -> str:
        return _cell_text(self.cells.get(key), self.kind)

    def header(self, key: str) -> str:
        if key in self.headers:
            return self.headers[key]
        if key in _BASE_BY_KEY:
            return _BASE_BY_KEY[key].header
        return key.removeprefix("extra.")

    def error(self, key: str, zh: str, en: str) -> None:
        self.errors.append(Issue(self.number, self.header(key), zh, en))

    def warn(self, key: str, zh: str, en: str) -> None:
        self.warnings.append(Issue(self.number, self.header(key), zh, en))

    def service_error(self, exc: ServiceError, default_key: str) -> None:
        key = _FIELD_TO_COLUMN.get(exc.field or "", None)
        if key is None and exc.field and ("extra." + exc.field) in self.headers:
            key = "extra." + exc.field
        self.error(key or default_key, exc.zh, exc.en)

    def date(self, key: str) -> dt.date | None:
        try:
            return parse_date(self.raw(key))
        except (ValueError, OverflowError):
            self.error(
                key,
                f"“{self.text(key)}”不是有效日期，请写成 2025-01-31、2025/1/31 或 2025年1月31日。",
                f"'{self.text(key)}' is not a valid date: write 2025-01-31, 2025/1/31 "
                "or 2025年1月31日.",
            )
            return None


async def validate_import(
    sheet: Sheet, register_code: str, progress: Progress | None = None
) -> ImportReport:
    """Plan every row of the sheet against the register: nothing is written."""
    catalog = await get_catalog()
    register = catalog.by_code.get(register_code)
    if register is None:
        raise ServiceError(
            f"未知的名录：{register_code}。可选：{', '.join(catalog.by_code)}",
            f"Unknown register '{register_code}'. Valid values: {', '.join(catalog.by_code)}",
            field="register",
        )
    report = ImportReport(register.code, sheet.filename, [])
    columns = columns_for(register)
    aliases = _alias_map(columns)
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    for i, header in enumerate(sheet.headers):
        if not header:
            continue
        column = aliases.get(_norm(header))
        if column is None:
            report.file_warnings.append(
                Issue(
                    sheet.header_row,
                    header,
                    f"未识别的列“{header}”，已忽略。",
                    f"Unknown column '{header}': ignored.",
                )
            )
        elif column.key in index:
            report.file_errors.append(
                Issue(
                    sheet.header_row,
                    header,
                    f"列“{header}”与“{headers[column.key]}”重复。",
                    f"Column '{header}' repeats '{headers[column.key]}'.",
                )
            )
        else:
            index[column.key] = i
            headers[column.key] = header
    for key in _required_keys(register):
        if key not in index:
            column = _BASE_BY_KEY[key]
            report.file_errors.append(
                Issue(
                    sheet.header_row,
                    column.header,
                    f"缺少必填的列“{column.header}”。",
                    f"The required column '{column.header}' ({key}) is missing.",
                )
            )

    rows = [
        _Row(
            number,
            {k: (values[i] if i < len(values) else None) for k, i in index.items()},
            headers,
            sheet.kind,
        )
        for number, values in sheet.rows
    ]
    # A required field's column missing for a subtype the file uses: one error, not one a row.
    used: dict[str, SubtypeInfo] = {}
    for r in rows:
        try:
            subtype = _parse_subtype(r.text("subtype"), register)
        except ServiceError:
            continue
        used[subtype.code] = subtype
    missing = {}
    for subtype in used.values():
        for f in subtype.extra_fields:
            if f.required and "extra." + f.key not in index:
                missing.setdefault(f.key, (f, []))[1].append(subtype.name_zh)
    for f, names in missing.values():
        report.file_errors.append(
            Issue(
                sheet.header_row,
                f.label_zh,
                f"缺少必填的列“{f.label_zh}”（{'、'.join(names)}须填写）。",
                f"The required column '{f.label_zh}' ({f.label_en}) is missing.",
            )
        )
    if report.file_errors:
        return report

    # Bulk look-ups: the enterprises and stored entries the file names.
    usccs = {check_uscc(r.text("enterprise_uscc")).code for r in rows if r.text("enterprise_uscc")}
    enterprises = await _enterprises(sorted(usccs))
    numbers = [r.text("entry_no") for r in rows if r.text("entry_no")]
    stored = await get_entries_by_number(numbers)
    first_row_of: dict[str, list[int]] = {}
    for r in rows:
        if r.text("entry_no"):
            first_row_of.setdefault(r.text("entry_no"), []).append(r.number)
    new_enterprise_names: dict[str, tuple[int, str]] = {}
    on = today()

    for done, r in enumerate(rows, start=1):
        plan = _plan_row(r, register, catalog, index, enterprises, stored, on)
        entry_no = r.text("entry_no")
        if entry_no and len(first_row_of[entry_no]) > 1:
            others = "、".join(str(n) for n in first_row_of[entry_no] if n != r.number)
            r.error(
                "entry_no",
                f"证书编号 {entry_no} 在文件中重复（另见第 {others} 行）。",
                f"Entry number {entry_no} appears more than once in the file "
                f"(also row {others.replace('、', ', ')}).",
            )
        if plan.new_enterprise:
            uscc, name, _ = plan.new_enterprise
            seen = new_enterprise_names.setdefault(uscc, (r.number, name))
            if seen[1] != name:
                r.warn(
                    "enterprise_name",
                    f"同一信用代码在第 {seen[0]} 行的企业名称为“{seen[1]}”，"
                    f"以第 {seen[0]} 行为准。",
                    f"Row {seen[0]} names this credit code's enterprise '{seen[1]}'; "
                    "that name is used.",
                )
        plan.errors, plan.warnings = r.errors, r.warnings
        if plan.errors:
            plan.action, plan.new, plan.changes = "error", None, None
        report.rows.append(plan)
        if progress:
            progress(done, len(rows))
    return report


async def _enterprises(usccs: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(usccs), 500):
        rows = await Enterprise.select(
            Enterprise.uscc, Enterprise.name, Enterprise.district_code
        ).where(Enterprise.uscc.is_in(usccs[start : start + 500]))
        found.update((r["uscc"], r) for r in rows)
    return found


def _plan_row(
    r: _Row,
    register: RegisterInfo,
    catalog: Catalog,
    index: dict[str, int],
    enterprises: dict[str, dict[str, Any]],
    stored: dict[str, EntryRecord],
    on: dt.date,
) -> RowPlan:
    entry_no = r.text("entry_no")
    plan = RowPlan(r.number, entry_no, r.text("name"), r.text("enterprise_name"), "")
    if not entry_no:
        r.error("entry_no", "请填写证书编号。", "The entry number is required.")
    for key, limit in MAX_LENGTHS.items():
        if len(r.text(key)) > limit:
            r.error(
                key,
                f"内容过长：最多 {limit} 个字符，现有 {len(r.text(key))} 个。",
                f"Too long: at most {limit} characters, this has {len(r.text(key))}.",
            )
    try:
        subtype = _parse_subtype(r.text("subtype"), register)
        plan.subtype_code = subtype.code
    except ServiceError as exc:
        r.error("subtype", exc.zh, exc.en)
        return plan

    # Enterprise: known by its credit code, or created from the row.
    uscc = ""
    raw_uscc = r.text("enterprise_uscc")
    if not raw_uscc:
        r.error("enterprise_uscc", "请填写统一社会信用代码。", "The credit code is required.")
    else:
        check = check_uscc(raw_uscc)
        uscc = check.code
        known = enterprises.get(uscc)
        if not check.well_formed:
            r.error("enterprise_uscc", check.message_zh, check.message_en)
        elif known is not None:
            file_name = r.text("enterprise_name")
            if file_name and file_name != known["name"]:
                r.warn(
                    "enterprise_name",
                    f"企业名称与已登记的“{known['name']}”不同；导入不修改企业信息。",
                    f"The enterprise is registered as '{known['name']}'; an import does not "
                    "change enterprise details.",
                )
        elif not check.checksum_ok:
            r.error(
                "enterprise_uscc",
                check.message_zh + "该企业尚未登记：请先由工作人员核实营业执照并确认登记该企业，"
                "再导入。",
                check.message_en + " The enterprise is not registered yet: have staff check "
                "its licence and confirm it first, then import.",
            )
        elif not r.text("enterprise_name"):
            r.error(
                "enterprise_name",
                f"信用代码 {uscc} 的企业尚未登记，请填写企业名称以便一并登记。",
                f"No enterprise with credit code {uscc} yet: give its name so it can be "
                "registered.",
            )
        else:
            plan.new_enterprise = (uscc, r.text("enterprise_name"), "")

    district = ""
    try:
        district = parse_district(r.text("district"))
    except ServiceError as exc:
        r.error("district", exc.zh, exc.en)
    if plan.new_enterprise:
        plan.new_enterprise = (plan.new_enterprise[0], plan.new_enterprise[1], district)
    industry = ""
    try:
        industry = _parse_industry(r.text("industry"), register)
    except ServiceError as exc:
        r.error("industry", exc.zh, exc.en)
    valid_from = r.date("valid_from")
    if valid_from is None and not r.text("valid_from"):
        r.error("valid_from", "请填写有效期起始日。", "The valid-from date is required.")
    valid_until = r.date("valid_until")
    status = None
    try:
        status = _parse_status(r.text("status"))
    except ServiceError as exc:
        r.error("status", exc.zh, exc.en)

    # Typed extra fields, one at a time so every bad cell is reported.
    extra: dict[str, Any] = {}
    for f in subtype.extra_fields:
        key = "extra." + f.key
        if key not in index:
            continue  # a required field's missing column is a file error (see above)
        text = r.text(key)
        if not text:
            continue
        if f.type == "date":
            day = r.date(key)
            if day is None:
                continue
            text = day.isoformat()
        elif f.type == "choice":
            text = _parse_choice(f, text)
        try:
            validate_extra(dataclasses.replace(subtype, extra_fields=(f,)), {f.key: text}, on)
        except ServiceError as exc:
            r.error(key, exc.zh, exc.en)
            continue
        extra[f.key] = text
    own = {"extra." + f.key for f in subtype.extra_fields}
    for key in index:
        if key.startswith("extra.") and key not in own and r.text(key):
            r.warn(
                key,
                f"“{subtype.name_zh}”没有此项，已忽略。",
                f"{subtype.name_en} has no such field: ignored.",
            )
    if r.errors or valid_from is None:
        return plan

    new = NewEntry(
        subtype=subtype.code,
        name=r.text("name"),
        enterprise_uscc=uscc,
        valid_from=valid_from,
        entry_no=entry_no,
        name_en=r.text("name_en"),
        district_code=district,
        industry=industry,
        valid_until=valid_until,
        extra=extra,
        description=r.text("description"),
        authority_zh=r.text("authority") or None,
    )
    try:
        clean_extra, resolved_until = validate_new_entry(new, catalog)
    except ServiceError as exc:
        r.service_error(exc, "name")
        return plan

    current = stored.get(entry_no)
    if current is None:
        would_be = statuses.effective_status(statuses.ACTIVE, resolved_until, on)
        if status is not None and status != would_be:
            label, target = statuses.LABELS[status], statuses.LABELS[would_be]
            r.error(
                "status",
                f"新登记导入后为“{target.zh}”，文件中的状态为“{label.zh}”。暂停、撤销等状态须在"
                "登记管理中由有权限的人员注明理由办理；请将此列留空或改为“有效”。",
                f"A new entry is imported as '{target.en}' but the file says '{label.en}'. "
                "Suspending, revoking and the other status changes are made in the entry "
                "pages with a reason by someone allowed to; leave this cell empty or 'Valid'.",
            )
            return plan
        plan.action, plan.new = "create", new
        return plan

    if current.register_code != register.code:
        other = catalog.by_code[current.register_code]
        r.error(
            "entry_no",
            f"编号 {entry_no} 已属于“{other.name_zh}”，不能导入到“{register.name_zh}”。",
            f"Entry {entry_no} belongs to {other.name_en}, not {register.name_en}.",
        )
        return plan
    if current.subtype_code != subtype.code:
        was = catalog.subtypes_by_code[current.subtype_code]
        r.error(
            "subtype",
            f"登记 {entry_no} 的类别是“{was.name_zh}”，导入不能修改类别。",
            f"Entry {entry_no} is a {was.name_en}; an import cannot change the subtype.",
        )
        return plan
    if status is not None and status != current.status:
        now, file = statuses.LABELS[current.status], statuses.LABELS[status]
        r.warn(
            "status",
            f"状态不通过导入修改：文件为“{file.zh}”，现为“{now.zh}”，保持不变。如需变更请在"
            "登记管理中办理。",
            f"Status is not changed by an import: the file says '{file.en}', the entry is "
            f"'{now.en}' and stays so. Use the entry pages to change it.",
        )
    authority = r.text("authority") or subtype.authority_zh
    compare = {
        "name": (new.name.strip(), current.name),
        "name_en": (new.name_en.strip(), current.name_en),
        "enterprise_uscc": (uscc, current.enterprise_uscc),
        "district": (district, current.district_code),
        "industry": (industry, current.industry),
        "valid_from": (valid_from, current.valid_from),
        "valid_until": (resolved_until, current.valid_until),
        "authority": (authority, current.authority_zh),
        "description": (new.description.strip(), current.description.strip()),
    }
    plan.changed = [r.header(k) for k, (a, b) in compare.items() if a != b]
    plan.changed += [
        r.header("extra." + f.key)
        for f in subtype.extra_fields
        if clean_extra.get(f.key) != current.extra.get(f.key)
    ]
    if not plan.changed:
        plan.action = "unchanged"
        return plan
    plan.action = "update"
    plan.changes = EntryChanges(
        name=new.name,
        name_en=new.name_en,
        district_code=district,
        industry=industry,
        valid_from=valid_from,
        valid_until=valid_until,
        extra=extra,
        description=new.description,
        authority_zh=r.text("authority"),
        authority_en=current.authority_en,
        enterprise_uscc=uscc if uscc != current.enterprise_uscc else None,
    )
    return plan


# --- writing ----------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: int  # rows with errors left out (valid_only)
    enterprises_created: int


class ImportFailed(ServiceError):
    """A row the preview found valid failed while writing: nothing was written."""

    def __init__(self, row: int, exc: ServiceError):
        super().__init__(
            f"第 {row} 行写入时出错：{exc.zh} 全部导入已撤回，未写入任何数据。",
            f"Row {row} failed while writing: {exc.en} The whole import was rolled back; "
            "nothing was written.",
            field=exc.field,
        )
        self.row = row
        self.status_code = exc.status_code


async def apply_import(
    report: ImportReport,
    actor: Actor | str,
    valid_only: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Write the planned rows in one transaction: all of them, or nothing.

    Refused (nothing written) when any row has an error, unless ``valid_only``; errors
    in the file's columns always refuse."""
    actor = as_actor(actor)
    require(actor, "entry.import")
    if report.file_errors:
        raise ServiceError(
            "文件的列有误，未写入任何数据。请按报告修改表头后重新导入。",
            "The file's columns are wrong; nothing was written. Fix the header as the report "
            "says and import again.",
            field="file",
        )
    counts = report.counts
    if counts["error"] and not valid_only:
        raise ServiceError(
            f"有 {counts['error']} 行有错误，未写入任何数据。请修改后重新导入，"
            "或选择只导入无误的行。",
            f"{counts['error']} rows have errors; nothing was written. Fix them and import "
            "again, or choose to import the valid rows only.",
            field="file",
        )
    todo = [p for p in report.rows if p.action in ("create", "update")]
    created = updated = enterprises_created = 0
    if todo:
        async with write_transaction():
            made: set[str] = set()
            for done, plan in enumerate(todo, start=1):
                try:
                    if plan.new_enterprise and plan.new_enterprise[0] not in made:
                        uscc, name, district = plan.new_enterprise
                        await upsert_enterprise(uscc, name, district, actor=actor)
                        made.add(uscc)
                        enterprises_created += 1
                    if plan.action == "create":
                        assert plan.new is not None
                        await create_entry(plan.new, actor, reason="认定登记（表格导入）")
                        created += 1
                    else:
                        assert plan.changes is not None
                        await update_entry(plan.entry_no, plan.changes, actor)
                        updated += 1
                except ServiceError as exc:
                    raise ImportFailed(plan.row, exc) from exc
                if progress:
                    progress(done, len(todo))
            await audit.record(
                actor,
                "entry.import",
                "register",
                report.register_code,
                None,
                {
                    "file": report.filename,
                    "created": created,
                    "updated": updated,
                    "unchanged": counts["unchanged"],
                    "skipped": counts["error"],
                    "enterprises_created": enterprises_created,
                },
            )
    return ImportResult(created, updated, counts["unchanged"], counts["error"], enterprises_created)


# --- export -----------------------------------------------------------------------------


async def export_rows(filters: EntryFilters) -> AsyncIterator[list[Any]]:
    """The header row, then every entry the filters select (all pages), as cell values.

    The columns are exactly those an import of the same register reads back."""
    if not filters.register:
        raise ServiceError(
            "请选择要导出的名录。", "Choose the register to export.", field="register"
        )
    await validate_filters(filters)
    catalog = await get_catalog()
    register = catalog.by_code[filters.register]
    columns = columns_for(register)
    yield [c.header for c in columns]
    industries = {i["code"]: i["zh"] for i in register.industries}
    page = 1
    while True:
        items, total = await list_entries(filters, page, MAX_PAGE_SIZE)
        for e in items:
            subtype = catalog.subtypes_by_code[e.subtype_code]
            district = DISTRICTS_BY_CODE.get(e.district_code)
            values: dict[str, Any] = {
                "entry_no": e.entry_no,
                "subtype": subtype.name_zh,
                "name": e.name,
                "name_en": e.name_en,
                "enterprise_uscc": e.enterprise_uscc,
                "enterprise_name": e.enterprise_name,
                "district": district.name_zh if district else e.district_code,
                "industry": industries.get(e.industry, e.industry),
                "valid_from": e.valid_from,
                "valid_until": e.valid_until,
                "status": statuses.LABELS[e.status].zh,
                "authority": e.authority_zh,
                "description": e.description,
            }
            own = {f.key: f for f in subtype.extra_fields}
            for c in columns[len(BASE_COLUMNS) :]:
                key = c.key.removeprefix("extra.")
                value = e.extra.get(key) if key in own else None
                if value is not None and own[key].type == "choice":
                    value = next(
                        (ch.get("zh", value) for ch in own[key].choices if ch["value"] == value),
                        value,
                    )
                values[c.key] = _export_value(value, own[key].type if key in own else "text")
            yield [values.get(c.key) for c in columns]
        if page * MAX_PAGE_SIZE >= total:
            break
        page += 1


def _export_value(value: Any, kind: str) -> Any:
    """Numbers that read back identically are written as numbers, everything else as text."""
    if value is None or value == "":
        return None
    if kind == "decimal":
        text = str(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        if number == number.to_integral_value() and "." not in text and "E" not in text:
            return int(number)
        as_float = float(number)
        if repr(as_float) == text:
            return as_float
        return text
    if kind in ("integer", "year") and isinstance(value, int):
        return value
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return str(value)


def write_xlsx(rows: Iterable[list[Any]], sheet_title: str = "登记") -> bytes:
    """An .xlsx workbook: bold frozen header, dates as dates, text never read as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    first = True
    for row in rows:
        cells = []
        if first:
            for i, header in enumerate(row):
                letter = _column_letter(i)
                sheet.column_dimensions[letter].width = max(10, min(40, len(str(header)) * 2 + 4))
        for value in row:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # "=..." stays text, never a formula
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if first:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        first = False
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write_csv(rows: Iterable[list[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel opens it as UTF-8); dates as 2025-01-31.

    Text starting with = + - @ gets a leading ' so Excel does not run it as a formula;
    the import removes it again."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


@dataclass
class ExportFile:
    data: bytes
    count: int  # entries, without the header row
    filename: str
    media_type: str


MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


async def export_file(filters: EntryFilters, fmt: str) -> ExportFile:
    """The filtered entries of one register as an .xlsx or .csv file."""
    if fmt not in FORMATS:
        raise ServiceError(
            f"导出格式只能是 xlsx 或 csv，不能是 {fmt}。",
            f"The export format must be xlsx or csv, not {fmt}.",
            field="format",
        )
    rows = [row async for row in export_rows(filters)]
    data = write_xlsx(rows) if fmt == "xlsx" else write_csv(rows)
    assert filters.register is not None
    return ExportFile(data, len(rows) - 1, export_filename(filters.register, fmt), MEDIA_TYPES[fmt])


def export_filename(register_code: str, fmt: str, on: dt.date | None = None) -> str:
    return f"{register_code}-{(on or today()).strftime('%Y%m%d')}.{fmt}"
