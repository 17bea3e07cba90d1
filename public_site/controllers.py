"""Consumer pages: home, register listings, entry pages, verification, QR images.

Thin controllers: every rule is in registry.services; these only read the request,
call a service and pick a template.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote_plus

from litestar import Controller, MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from markupsafe import escape

from public_site.rendering import page, query_with, render, request_lang
from registry import i18n, tokens
from registry.services import codes, verification
from registry.services import entries as entry_service
from registry.services.entries import EntryFilters
from registry.services.errors import ServiceError
from registry.services.registers import get_catalog
from registry.settings import get_settings
from registry.tables import Entry

PAGE_SIZE = 20


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="home")
    async def home(self, request: Request) -> Template:
        catalog = await get_catalog()
        counts = {}
        for register in catalog.registers:
            counts[register.code] = await Entry.count().where(Entry.register == register.id)
        return page(request, "home.html", catalog=catalog, counts=counts)

    @get("/lang/{lang:str}", name="lang.switch")
    async def switch_lang(self, lang: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
        if lang not in i18n.LANGS:
            raise NotFoundException()
        # Only local paths: never an open redirect to another site.
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = Redirect(path=target, status_code=303)
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return response


class ListingController(Controller):
    path = "/"
    include_in_schema = False

    @get("/registers/{code:str}", name="register.list")
    async def register_list(
        self,
        request: Request,
        code: FromPath[str],
        subtype: FromQuery[str | None] = None,
        district: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page_no: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
    ) -> Template:
        catalog = await get_catalog()
        register = catalog.by_code.get(code)
        if register is None:
            raise NotFoundException()
        filters = EntryFilters(
            register.code, subtype or None, district or None, status or None, None, q or None
        )
        return await _listing(request, "register.html", filters, page_no, register=register)

    @get("/search", name="search")
    async def search(
        self,
        request: Request,
        q: FromQuery[str | None] = None,
        register: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        page_no: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
    ) -> Template:
        filters = EntryFilters(register or None, None, None, status or None, None, q or None)
        return await _listing(request, "search.html", filters, page_no, register=None)

    @get("/entries/{entry_no:str}", name="entry.detail")
    async def entry_detail(self, request: Request, entry_no: FromPath[str]) -> Template:
        detail = await entry_service.get_entry_detail(entry_no)
        catalog = await get_catalog()
        return page(
            request,
            "entry.html",
            detail=detail,
            entry=detail.entry,
            register=catalog.by_code[detail.entry.register_code],
            subtype=catalog.subtypes_by_code[detail.entry.subtype_code],
            token=detail.entry.token,
            codes=codes,
        )


async def _listing(request: Request, template: str, filters: EntryFilters, page_no: int, **ctx):
    catalog = await get_catalog()
    try:
        items, total = await entry_service.list_entries(filters, page_no, PAGE_SIZE)
        error = None
    except ServiceError as exc:
        items, total, error = [], 0, exc.message(request_lang(request))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return page(
        request,
        template,
        status_code=400 if error else 200,
        catalog=catalog,
        items=items,
        total=total,
        page_no=page_no,
        pages=pages,
        filters=filters,
        error=error,
        query_with=lambda **kw: query_with(request, **kw),
        **ctx,
    )


_TOKEN_MARK = "ZZTOKENMARKZZ"
_PATH_MARK = "ZZPATHMARKZZ"
_not_genuine_pages: dict[tuple[str, str], str] = {}


def not_genuine_html(request: Request, lang: str, token: str) -> str:
    """The 404 page, rendered once per language and path prefix; the token is filled in.

    Forged tokens are chosen by whoever sends them, so they never become cache keys:
    only the two languages and the two spellings of the prefix (/V/, /v/) do.
    """
    if set(request.query_params) - {"lang"} or get_settings().debug:
        return render(request, "not_genuine.html", token=token)
    key = (lang, request.url.path[:3])
    html = _not_genuine_pages.get(key)
    if html is None:
        html = _not_genuine_pages[key] = render(
            request, "not_genuine.html", back=key[1] + _PATH_MARK, token=_TOKEN_MARK
        )
    return html.replace(_PATH_MARK, quote_plus(token)).replace(_TOKEN_MARK, str(escape(token)))


class VerifyController(Controller):
    path = "/"
    include_in_schema = False

    @get("/verify", name="verify.form")
    async def verify_form(
        self, request: Request, code: FromQuery[str | None] = None
    ) -> Template | Redirect:
        if code is None or not code.strip():
            return page(request, "verify_form.html", code="", error=None)
        token = tokens.normalize_code(code)
        if len(token) in (tokens.SHORT_LENGTH, tokens.ITEM_LENGTH):
            return Redirect(path=f"/V/{token}", status_code=303)
        return page(
            request,
            "verify_form.html",
            status_code=400,
            code=code,
            error=len(token),
        )

    @get(["/V/{token:str}", "/v/{token:str}"], name="verify.page")
    async def verify_page(self, request: Request, token: FromPath[str]) -> Response:
        verdict = await verification.verify(token)
        lang = request_lang(request)
        if verdict.snapshot is None:
            # Not issued by us (or mistyped): 404, decided by the MAC alone.
            html = not_genuine_html(request, lang, token)
            return Response(html, status_code=404, media_type=MediaType.HTML)
        # The rendered page is kept on the snapshot, so it expires and is dropped with
        # it.  Only genuine tokens get here: a forger cannot fill this cache.  The
        # verdict is part of the key: a listing that expires overnight re-renders.
        pages = verdict.snapshot.pages
        key = (request.url.path, lang, verdict.result, verdict.status, verdict.decided_by)
        html = pages.get(key)
        if html is None:
            catalog = await get_catalog()
            entry = verdict.snapshot.entry
            html = render(
                request,
                "verify.html",
                verdict=verdict,
                snap=verdict.snapshot,
                entry=entry,
                register=catalog.by_code[entry.register_code],
                subtype=catalog.subtypes_by_code[entry.subtype_code],
                message=verification.verdict_message(verdict),
            )
            if not set(request.query_params) - {"lang"} and not get_settings().debug:
                pages[key] = html
        return Response(html, media_type=MediaType.HTML)

    @get("/qr/{filename:str}", name="qr.image")
    async def qr_image(self, filename: FromPath[str]) -> Response:
        token, _, suffix = filename.rpartition(".")
        try:
            decoded = tokens.decode(tokens.get_keyring(), token)
        except tokens.TokenError:
            raise NotFoundException() from None
        headers = {"Cache-Control": "public, max-age=86400"}
        if suffix == "png":
            body, media_type = codes.render_png(decoded.text), "image/png"
        elif suffix == "svg":
            body, media_type = codes.render_svg(decoded.text).encode(), "image/svg+xml"
        else:
            raise NotFoundException()
        return Response(body, media_type=media_type, headers=headers)
