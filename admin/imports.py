"""Spreadsheet import (upload, preview, confirm) and export in the back office.

Thin: the rules live in registry.services.spreadsheets, shared with ``registry import``
and ``registry export``.  An upload is kept server-side under the var directory between
the preview and the confirmation, keyed by a random id and tied to the staff member who
uploaded it; confirming re-reads and re-checks it, so what is written is checked against
the database as it is at that moment, in one all-or-nothing transaction.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from admin.auth import Form, current_actor, staff_guard
from public_site.rendering import page, request_lang
from registry import statuses
from registry.districts import TIANJIN_DISTRICTS
from registry.services import spreadsheets
from registry.services.entries import EntryFilters
from registry.services.errors import ServiceError
from registry.services.registers import get_catalog
from registry.settings import get_settings

#: Uploads older than this are deleted (a preview nobody confirmed).
KEEP_SECONDS = 24 * 3600
PREVIEW_ROWS = 50
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: The request may be a little larger than the file: multipart headers and form fields.
_BODY_LIMIT = spreadsheets.MAX_UPLOAD_BYTES + 256 * 1024


def _upload_dir() -> Path:
    path = get_settings().var_dir / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _too_large_message(lang: str) -> str:
    mb = spreadsheets.MAX_UPLOAD_BYTES // (1024 * 1024)
    if lang == "en":
        return f"The file is larger than {mb} MB. Split it into several files and import each."
    return f"文件超过 {mb} MB，请分成几个文件分别导入。"


async def _index_context() -> dict[str, Any]:
    catalog = await get_catalog()
    return {
        "registers": catalog.registers,
        "statuses": statuses.ALL_STATUSES,
        "districts": TIANJIN_DISTRICTS,
    }


async def _index(request: Request, error: str | None, status_code: int = 200) -> Template:
    return page(
        request,
        "admin/imports.html",
        status_code=status_code,
        error=error,
        **await _index_context(),
    )


def _handle_too_large(request: Request, exc: HTTPException) -> Response:
    """413 on an upload (refused while the body is read): back to the upload page, which
    then says what to do."""
    return Redirect("/admin/imports?error=too_large", status_code=303)


# --- keeping an upload between preview and confirmation -----------------------------------


def _save_upload(data: bytes, meta: dict[str, Any]) -> str:
    folder = _upload_dir()
    now = time.time()
    for old in folder.iterdir():
        try:
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
        except FileNotFoundError:
            pass
    import_id = secrets.token_urlsafe(24)
    (folder / f"{import_id}.bin").write_bytes(data)
    (folder / f"{import_id}.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    return import_id


def _claim_upload(import_id: str, staff_id: int) -> tuple[dict[str, Any], bytes] | None:
    """Take the upload for applying; only one request can hold it (atomic rename)."""
    if not _ID.match(import_id or ""):
        return None
    folder = _upload_dir()
    meta_path = folder / f"{import_id}.json"
    claimed = folder / f"{import_id}.applying"
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("staff_id") != staff_id or time.time() - meta["at"] > KEEP_SECONDS:
            return None
        os.rename(meta_path, claimed)
    except (FileNotFoundError, ValueError, KeyError):
        return None
    try:
        return meta, (folder / f"{import_id}.bin").read_bytes()
    except FileNotFoundError:
        claimed.unlink(missing_ok=True)
        return None


def _release_upload(import_id: str) -> None:
    folder = _upload_dir()
    try:
        os.rename(folder / f"{import_id}.applying", folder / f"{import_id}.json")
    except FileNotFoundError:
        pass


def _discard_upload(import_id: str) -> None:
    folder = _upload_dir()
    for suffix in (".applying", ".json", ".bin"):
        (folder / f"{import_id}{suffix}").unlink(missing_ok=True)


# --- pages -----------------------------------------------------------------------------


@dataclass
class ApplyForm:
    id: str = ""


def _truthy(value: Any) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


class ImportsController(Controller):
    path = "/admin/imports"
    include_in_schema = False
    guards = [staff_guard]
    exception_handlers = {413: _handle_too_large}

    @get("/", name="admin.imports", opt={"permission": "entry.export"})
    async def index(self, request: Request, error: FromQuery[str | None] = None) -> Template:
        message = _too_large_message(request_lang(request)) if error == "too_large" else None
        return await _index(request, message)

    @post(
        "/preview",
        name="admin.imports.preview",
        opt={"permission": "entry.import"},
        request_max_body_size=_BODY_LIMIT,
    )
    async def preview(self, request: Request) -> Template:
        lang = request_lang(request)
        form = await request.form()
        register = str(form.get("register") or "")
        upload = form.get("file")
        valid_only = _truthy(form.get("valid_only"))
        if not isinstance(upload, UploadFile) or not upload.filename:
            message = "Choose a file to import." if lang == "en" else "请选择要导入的文件。"
            return await _index(request, message, status_code=400)
        data = await upload.read()
        if len(data) > spreadsheets.MAX_UPLOAD_BYTES:
            return await _index(request, _too_large_message(lang), status_code=413)
        try:
            sheet = spreadsheets.read_rows(data, upload.filename)
            report = await spreadsheets.validate_import(sheet, register)
        except ServiceError as exc:
            return await _index(request, exc.message(lang), status_code=400)
        import_id = _save_upload(
            data,
            {
                "register": report.register_code,
                "filename": upload.filename,
                "valid_only": valid_only,
                "staff_id": request.state.staff.id,
                "at": time.time(),
            },
        )
        return await _preview_page(request, report, import_id, valid_only)

    @post("/apply", name="admin.imports.apply", opt={"permission": "entry.import"})
    async def apply(self, request: Request, data: Annotated[ApplyForm, Form]) -> Template:
        lang = request_lang(request)
        claimed = _claim_upload(data.id, request.state.staff.id)
        if claimed is None:
            message = (
                "This upload was already imported or has expired. Upload the file again."
                if lang == "en"
                else "该文件已导入或已过期，请重新上传。"
            )
            return await _index(request, message, status_code=404)
        meta, raw = claimed
        try:
            sheet = spreadsheets.read_rows(raw, meta["filename"])
            report = await spreadsheets.validate_import(sheet, meta["register"])
        except ServiceError as exc:
            _discard_upload(data.id)
            return await _index(request, exc.message(lang), status_code=400)
        try:
            result = await spreadsheets.apply_import(
                report, current_actor(request), valid_only=meta["valid_only"]
            )
        except ServiceError as exc:
            # Nothing was written; the data may have changed since the preview: show it
            # again as it stands now so the clerk can fix the file or confirm again.
            _release_upload(data.id)
            report = await spreadsheets.validate_import(sheet, meta["register"])
            return await _preview_page(
                request,
                report,
                data.id,
                meta["valid_only"],
                error=exc.message(lang),
                status_code=exc.status_code if exc.status_code != 404 else 409,
            )
        _discard_upload(data.id)
        catalog = await get_catalog()
        return page(
            request,
            "admin/imports_result.html",
            result=result,
            report=report,
            register=catalog.by_code[report.register_code],
        )


async def _preview_page(
    request: Request,
    report: spreadsheets.ImportReport,
    import_id: str,
    valid_only: bool,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    catalog = await get_catalog()
    return page(
        request,
        "admin/imports_preview.html",
        status_code=status_code,
        report=report,
        counts=report.counts,
        rows=report.rows[:PREVIEW_ROWS],
        preview_rows=PREVIEW_ROWS,
        import_id=import_id,
        valid_only=valid_only,
        register=catalog.by_code[report.register_code],
        error=error,
    )


def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class ExportsController(Controller):
    path = "/admin/exports"
    include_in_schema = False
    guards = [staff_guard]

    @get("/", name="admin.exports", opt={"permission": "entry.export"})
    async def export(
        self,
        request: Request,
        register: FromQuery[str | None] = None,
        format: FromQuery[str] = "xlsx",
        subtype: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        industry: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Response | Template:
        lang = request_lang(request)
        try:
            district_code = spreadsheets.parse_district(district or "") or None
            filters = EntryFilters(
                register=_blank_to_none(register),
                subtype=_blank_to_none(subtype),
                district=district_code,
                status=_blank_to_none(status),
                industry=_blank_to_none(industry),
                q=_blank_to_none(q),
            )
            exported = await spreadsheets.export_file(filters, format)
        except ServiceError as exc:
            return await _index(request, exc.message(lang), status_code=400)
        catalog = await get_catalog()
        name_zh = catalog.by_code[filters.register or ""].name_zh
        pretty = f"{name_zh}-{exported.filename.split('-', 1)[1]}"
        return Response(
            content=exported.data,
            media_type=exported.media_type,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{exported.filename}"; '
                    f"filename*=UTF-8''{quote(pretty)}"
                ),
                "Cache-Control": "no-store",
                "X-Entry-Count": str(exported.count),
            },
        )
