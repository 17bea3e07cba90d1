"""The public JSON API (/api/v1).  Thin: parse, call a service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter

from registry.api import schemas
from registry.services import entries as entry_service
from registry.services import verification
from registry.services.entries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, EntryFilters
from registry.services.registers import get_catalog


class RegistersController(Controller):
    path = "/api/v1/registers"
    tags = ["registers"]

    @get("/", name="api.registers.list", summary="The registers and their subtypes")
    async def list_registers(self) -> list[schemas.Register]:
        catalog = await get_catalog()
        return [schemas.register_out(r) for r in catalog.registers]


class EntriesController(Controller):
    path = "/api/v1/entries"
    tags = ["entries"]

    @get(
        "/",
        name="api.entries.list",
        summary="Entries, filtered and paginated",
        responses={400: ResponseSpec(data_container=schemas.ErrorBody, description="Bad filter")},
    )
    async def list_entries(
        self,
        register: Annotated[
            str | None, QueryParameter(description="register code: jinnong")
        ] = None,
        subtype: Annotated[str | None, QueryParameter(description="subtype code")] = None,
        district: Annotated[
            str | None, QueryParameter(description="GB/T 2260 code: 120101")
        ] = None,
        status: Annotated[
            str | None, QueryParameter(description="status, e.g. active, revoked")
        ] = None,
        industry: Annotated[str | None, QueryParameter(description="industry code")] = None,
        q: Annotated[
            str | None, QueryParameter(description="name, number, enterprise, USCC")
        ] = None,
        page: Annotated[int, QueryParameter(ge=1, description="page number, from 1")] = 1,
        page_size: Annotated[
            int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="items per page")
        ] = DEFAULT_PAGE_SIZE,
        lang: Annotated[str, QueryParameter(description="zh or en for labels")] = "zh",
    ) -> schemas.EntryPage:
        filters = EntryFilters(register, subtype, district, status, industry, q)
        items, total = await entry_service.list_entries(filters, page, page_size)
        catalog = await get_catalog()
        return schemas.EntryPage(
            items=[schemas.entry_out(e, catalog, lang) for e in items],
            total=total,
            page=page,
            page_size=page_size,
            pages=(total + page_size - 1) // page_size,
        )

    @get(
        "/{entry_no:str}",
        name="api.entries.detail",
        summary="One entry with its history and GI authorised users",
        responses={
            404: ResponseSpec(data_container=schemas.ErrorBody, description="No such entry")
        },
    )
    async def get_entry(
        self, entry_no: FromPath[str], lang: FromQuery[str] = "zh"
    ) -> schemas.EntryDetailOut:
        detail = await entry_service.get_entry_detail(entry_no)
        return schemas.detail_out(detail, await get_catalog(), lang)


class VerifyController(Controller):
    path = "/api/v1/verify"
    tags = ["verification"]

    @get(
        "/{token:str}",
        name="api.verify",
        summary="Verify a code",
        description=(
            "`result` is one of valid, valid_with_conditions, suspended, revoked, withdrawn, "
            "expired, removed (HTTP 200: the code is genuine, read the result) or not_genuine "
            "(HTTP 404: the code was not issued by this registry)."
        ),
        responses={
            404: ResponseSpec(
                data_container=schemas.VerifyResult,
                description="Not a genuine code: result is not_genuine",
            )
        },
    )
    async def verify(
        self, token: FromPath[str], lang: FromQuery[str] = "zh"
    ) -> Response[schemas.VerifyResult]:
        verdict = await verification.verify(token)
        zh, en = verification.verdict_message(verdict)
        snap = verdict.snapshot
        if snap is None:
            body = schemas.VerifyResult(verdict.result, False, zh, en, token)
            return Response(body, status_code=404)
        catalog = await get_catalog()
        users = [snap.user] if snap.user else []
        body = schemas.VerifyResult(
            result=verdict.result,
            genuine=True,
            message_zh=zh,
            message_en=en,
            token=verdict.token,
            decided_by=verdict.decided_by,
            reason=verdict.reason,
            entry=schemas.entry_detail_out(snap.entry, snap.history, users, catalog, lang),
            authorised_user=schemas.user_out(snap.user) if snap.user else None,
        )
        return Response(body, status_code=200)
