"""Service rules on a real database: numbering, validity, typed fields, status history,
computed expiry, verification cache, enterprises and the demo loader."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.services import verification
from registry.services.codes import token_for_entry
from registry.services.demo import load_demo
from registry.services.enterprises import get_enterprise_by_uscc, upsert_enterprise
from registry.services.entries import (
    EntryFilters,
    NewEntry,
    change_authorised_user_status,
    change_entry_status,
    create_entry,
    get_entry,
    get_entry_detail,
    list_entries,
    load_history,
    today,
)
from registry.services.errors import Conflict, ServiceError
from registry.tables import AuthorisedUser, Enterprise, Entry, StatusChange
from registry.uscc import check_character, make_uscc

USCC = make_uscc("91120101MA05TEXT0")
OTHER_USCC = make_uscc("91120112MA05TEXT1")
SIGNER = "测试签发人"

JINNONG_EXTRA = {
    "trademark_no": "第1号",
    "annual_sales": "1200.5",
    "credit_standing": "good",
    "quality_control": "ISO 9001",
}
FAMOUS_EXTRA = {"product_scope": "酱油", "product_standard": "GB/T 18186"}


@pytest.fixture
def enterprise(empty_db, run):
    run(upsert_enterprise(USCC, "天津测试食品有限公司", "120101"))
    return USCC


def new(subtype: str, **kw) -> NewEntry:
    defaults = dict(
        subtype=subtype,
        name="测试品牌",
        enterprise_uscc=USCC,
        valid_from=dt.date(2025, 3, 1),
        district_code="120112",
    )
    return NewEntry(**{**defaults, **kw})


def count(run, table) -> int:
    async def go():
        return await table.count()

    return run(go())


def lzh_extra(founded: int) -> dict:
    return {"founded_year": founded, "trademark_no": "第2号", "main_business": "包子"}


# --- on the demo data (first: it is still loaded from earlier test files) ----------------


def _counts(run) -> dict[str, int]:
    return {t.__name__: count(run, t) for t in (Enterprise, Entry, AuthorisedUser, StatusChange)}


def test_demo_loader_is_idempotent(demo_db, run):
    # demo_db, not demo_db_mutable: a second load must change nothing, which is checked.
    before = _counts(run)
    assert before["Entry"] == 62
    result = run(load_demo())
    assert result.entries_created == 0
    assert result.users_created == 0
    assert result.entries_total == 62
    assert _counts(run) == before


def _api_verify(client, token: str):
    return client.get(f"/api/v1/verify/{token}")


def _token(verify_url: str) -> str:
    return verify_url.rsplit("/V/", 1)[1]


def test_status_changes_show_in_verification_at_once(demo_db_mutable, client, run):
    gi = client.get("/api/v1/entries/AGI-DEMO-0002").json()
    first, second = gi["authorised_users"][:2]
    gi_token = _token(gi["verify_url"])
    first_token, second_token = _token(first["verify_url"]), _token(second["verify_url"])
    for token in (gi_token, first_token, second_token):
        assert _api_verify(client, token).json()["result"] == "valid"

    # One user suspended: only that user's code says so; the GI and the other user do not.
    run(
        change_authorised_user_status(first["user_no"], "suspend", "抽检不合格", signed_by="测试员")
    )
    body = _api_verify(client, first_token).json()
    assert body["result"] == "suspended" and body["decided_by"] == "authorised_user"
    assert body["reason"] == "抽检不合格"
    assert _api_verify(client, second_token).json()["result"] == "valid"
    assert _api_verify(client, gi_token).json()["result"] == "valid"

    # The GI itself suspended: every user code reports the GI's status.
    run(change_entry_status("AGI-DEMO-0002", "suspend", "协会资格审查", signed_by="测试员"))
    body = _api_verify(client, second_token).json()
    assert body["result"] == "suspended"
    assert body["decided_by"] == "gi"
    assert body["authorised_user"]["user_no"] == second["user_no"]
    assert body["authorised_user"]["status"] == "active"
    assert body["reason"] == "协会资格审查"
    detail = client.get("/api/v1/entries/AGI-DEMO-0002").json()
    assert detail["status"] == "suspended"
    assert detail["history"][0]["signed_by"] == "测试员"


# --- creating entries -------------------------------------------------------------------


def test_numbers_follow_the_subtype_format(enterprise, run):
    first = run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA), SIGNER))
    second = run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA), SIGNER))
    assert first.entry_no == "JNCP-2025-0001"
    assert second.entry_no == "JNCP-2025-0002"
    green = run(create_entry(new("green_food", extra={"product_no": "LB-1"}), SIGNER))
    assert green.entry_no == "GF120112250001"  # GF + county + yy + sequence
    lzh = run(create_entry(new("china_time_honoured", extra=lzh_extra(1900)), SIGNER))
    assert lzh.entry_no == "ZHLZH-TJ-0001"


def test_generated_number_skips_one_already_taken(enterprise, run):
    run(
        create_entry(new("jinnong_product", extra=JINNONG_EXTRA, entry_no="JNCP-2025-0001"), SIGNER)
    )
    generated = run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA), SIGNER))
    assert generated.entry_no == "JNCP-2025-0002"


def test_sequence_restarts_each_year(enterprise, run):
    run(
        create_entry(
            new("jinnong_product", extra=JINNONG_EXTRA, valid_from=dt.date(2024, 5, 1)), SIGNER
        )
    )
    run(
        create_entry(
            new("jinnong_product", extra=JINNONG_EXTRA, valid_from=dt.date(2024, 6, 1)), SIGNER
        )
    )
    next_year = run(
        create_entry(
            new("jinnong_product", extra=JINNONG_EXTRA, valid_from=dt.date(2025, 1, 10)), SIGNER
        )
    )
    assert next_year.entry_no == "JNCP-2025-0001"


def test_validity_defaults_to_the_subtype_term(enterprise, run):
    three = run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA), SIGNER))
    assert three.valid_from == dt.date(2025, 3, 1)
    assert three.valid_until == dt.date(2028, 2, 29)  # 3 years less one day

    organic = run(
        create_entry(
            new(
                "organic",
                entry_no="ORG-1",
                valid_from=dt.date(2025, 7, 15),
                extra={"cert_body": "某认证机构", "cert_body_approval_no": "CNCA-R-1"},
            ),
            SIGNER,
        )
    )
    assert organic.valid_until == dt.date(2026, 7, 14)  # one year

    honoured = run(create_entry(new("china_time_honoured", extra=lzh_extra(1900)), SIGNER))
    assert honoured.valid_until is None  # 老字号: no fixed term

    explicit = run(
        create_entry(
            new("jinnong_product", extra=JINNONG_EXTRA, valid_until=dt.date(2025, 12, 31)), SIGNER
        )
    )
    assert explicit.valid_until == dt.date(2025, 12, 31)


def test_creation_writes_the_first_history_row(enterprise, run):
    entry = run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA), SIGNER))
    assert entry.status == "active"
    history = run(load_history(entry.id))
    assert len(history) == 1
    assert history[0].from_status is None and history[0].to_status == "active"
    assert history[0].signed_by == SIGNER


def test_extra_fields_are_stored_typed(enterprise, run):
    entry = run(
        create_entry(
            new("jinnong_product", extra={**JINNONG_EXTRA, "annual_sales": "1,200.50"}), SIGNER
        )
    )
    assert entry.extra["annual_sales"] == "1200.50"
    honoured = run(create_entry(new("china_time_honoured", extra=lzh_extra("1900")), SIGNER))
    assert honoured.extra["founded_year"] == 1900


def _refused(run, entry: NewEntry) -> ServiceError:
    before = (count(run, Entry), count(run, StatusChange))
    with pytest.raises(ServiceError) as caught:
        run(create_entry(entry, SIGNER))
    after = (count(run, Entry), count(run, StatusChange))
    assert after == before, "a refused entry must not be written"
    assert caught.value.zh and caught.value.en
    return caught.value


def test_missing_required_field_is_refused_in_chinese(enterprise, run):
    extra = {k: v for k, v in JINNONG_EXTRA.items() if k != "trademark_no"}
    error = _refused(run, new("jinnong_product", extra=extra))
    assert error.field == "trademark_no"
    assert "注册商标号" in error.zh and "请填写" in error.zh
    assert "Trademark" in error.en


def test_decimal_field_must_be_a_number(enterprise, run):
    error = _refused(run, new("jinnong_product", extra={**JINNONG_EXTRA, "annual_sales": "很多"}))
    assert error.field == "annual_sales"
    assert "年销售额" in error.zh and "数字" in error.zh


def test_choice_field_must_be_one_of_the_choices(enterprise, run):
    error = _refused(
        run, new("jinnong_product", extra={**JINNONG_EXTRA, "credit_standing": "excellent"})
    )
    assert error.field == "credit_standing"
    assert "良好" in error.zh


def test_unknown_extra_field_is_refused(enterprise, run):
    error = _refused(run, new("jinnong_product", extra={**JINNONG_EXTRA, "colour": "red"}))
    assert "colour" in error.zh


def test_time_honoured_brand_must_be_fifty_years_old(enterprise, run):
    too_young = today().year - 49
    error = _refused(run, new("china_time_honoured", extra=lzh_extra(too_young)))
    assert error.field == "founded_year"
    assert "50" in error.zh and "品牌创立" in error.zh
    # Exactly fifty years is enough.
    ok = run(create_entry(new("tianjin_time_honoured", extra=lzh_extra(today().year - 50)), SIGNER))
    assert ok.status == "active"


def test_founded_year_in_the_future_is_refused(enterprise, run):
    error = _refused(run, new("china_time_honoured", extra=lzh_extra(today().year + 1)))
    assert error.field == "founded_year"


def test_free_format_numbers_must_be_given(enterprise, run):
    extra = {"cert_body": "某认证机构", "cert_body_approval_no": "CNCA-R-1"}
    error = _refused(run, new("organic", extra=extra))
    assert error.field == "entry_no"
    assert "证书编号" in error.zh
    entry = run(create_entry(new("organic", extra=extra, entry_no="124OP2500001"), SIGNER))
    assert entry.entry_no == "124OP2500001"


def test_duplicate_number_is_a_conflict(enterprise, run):
    run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA, entry_no="JN-X-1"), SIGNER))
    with pytest.raises(Conflict) as caught:
        run(create_entry(new("jinnong_product", extra=JINNONG_EXTRA, entry_no="JN-X-1"), SIGNER))
    assert caught.value.status_code == 409
    assert "JN-X-1" in caught.value.zh
    assert count(run, Entry) == 1
    assert count(run, StatusChange) == 1


def test_unknown_enterprise_is_refused(enterprise, run):
    error = _refused(run, new("jinnong_product", extra=JINNONG_EXTRA, enterprise_uscc=OTHER_USCC))
    assert error.field == "enterprise_uscc"
    assert OTHER_USCC in error.zh


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "  "}, "name"),
        ({"district_code": "999999"}, "district_code"),
        ({"industry": "spaceships"}, "industry"),
        ({"valid_until": dt.date(2024, 1, 1)}, "valid_until"),
    ],
)
def test_other_bad_input_is_refused(enterprise, run, changes, field):
    error = _refused(run, new("jinnong_product", extra=JINNONG_EXTRA, **changes))
    assert error.field == field


def test_unknown_subtype_is_refused(enterprise, run):
    _refused(run, new("no_such_subtype"))


# --- status changes -------------------------------------------------------------------------


@pytest.fixture
def entry_no(enterprise, run):
    return run(
        create_entry(
            new("jinnong_product", extra=JINNONG_EXTRA, valid_from=today() - dt.timedelta(days=30)),
            SIGNER,
        )
    ).entry_no


def test_status_change_writes_history(entry_no, run):
    entry = run(change_entry_status(entry_no, "suspend", "抽检不合格", signed_by="王科长"))
    assert entry.status == "suspended" and entry.status_reason == "抽检不合格"
    history = run(load_history(entry.id))
    assert len(history) == 2
    latest = history[0]
    assert (latest.from_status, latest.to_status) == ("active", "suspended")
    assert latest.reason == "抽检不合格" and latest.signed_by == "王科长"

    entry = run(change_entry_status(entry_no, "restore", "整改合格", signed_by="李处长"))
    assert entry.status == "active"
    entry = run(change_entry_status(entry_no, "revoke", "复查仍不合格", signed_by="李处长"))
    assert entry.status == "revoked"
    history = run(load_history(entry.id))
    assert [(h.from_status, h.to_status) for h in history] == [
        ("active", "revoked"),
        ("suspended", "active"),
        ("active", "suspended"),
        (None, "active"),
    ]


@pytest.mark.parametrize(
    "action, reason, signer, deadline",
    [
        ("restore", "恢复", SIGNER, None),  # restore an active entry
        ("confirm_conditions", "确认", SIGNER, None),  # not conditional
        ("suspend", "   ", SIGNER, None),  # no reason
        ("suspend", "抽检不合格", "  ", None),  # no signer
        ("pass_with_conditions", "附条件", SIGNER, None),  # no deadline
        ("pass_with_conditions", "附条件", SIGNER, "far"),  # deadline beyond 6 months
        ("explode", "原因", SIGNER, None),  # unknown action
    ],
)
def test_refused_status_change_writes_nothing(entry_no, run, action, reason, signer, deadline):
    if deadline == "far":
        deadline = today() + dt.timedelta(days=200)
    before = run(get_entry_detail(entry_no))
    with pytest.raises(ServiceError) as caught:
        run(change_entry_status(entry_no, action, reason, signed_by=signer, deadline=deadline))
    assert caught.value.zh and caught.value.en
    after = run(get_entry_detail(entry_no))
    assert after.entry.status == before.entry.status == "active"
    assert len(after.history) == len(before.history)
    assert count(run, StatusChange) == len(before.history)


def test_terminal_statuses_cannot_be_restored(entry_no, run):
    run(change_entry_status(entry_no, "revoke", "以欺骗手段取得", signed_by=SIGNER))
    with pytest.raises(ServiceError):
        run(change_entry_status(entry_no, "restore", "申诉", signed_by=SIGNER))
    assert run(get_entry(entry_no)).status == "revoked"
    assert len(run(get_entry_detail(entry_no)).history) == 2


def test_conditional_pass_and_its_deadline(entry_no, run):
    deadline = today() + dt.timedelta(days=90)
    entry = run(
        change_entry_status(
            entry_no, "pass_with_conditions", "门店标识不规范", signed_by=SIGNER, deadline=deadline
        )
    )
    assert entry.status == "conditional" and entry.condition_deadline == deadline
    entry = run(change_entry_status(entry_no, "fail_conditions", "逾期未整改", signed_by=SIGNER))
    assert entry.status == "removed"
    assert entry.condition_deadline is None


def test_unknown_entry_status_change_is_not_found(enterprise, run):
    with pytest.raises(ServiceError) as caught:
        run(change_entry_status("NOPE-1", "suspend", "原因", signed_by=SIGNER))
    assert caught.value.status_code == 404


# --- computed expiry -----------------------------------------------------------------------------


def test_expiry_is_computed_from_the_dates(enterprise, run):
    yesterday = today() - dt.timedelta(days=1)
    expired = run(
        create_entry(
            new(
                "jinnong_product",
                extra=JINNONG_EXTRA,
                entry_no="JN-EXPIRED",
                valid_from=today() - dt.timedelta(days=400),
                valid_until=yesterday,
            ),
            SIGNER,
        )
    )
    last_day = run(
        create_entry(
            new(
                "jinnong_product",
                extra=JINNONG_EXTRA,
                entry_no="JN-LAST-DAY",
                valid_from=today() - dt.timedelta(days=400),
                valid_until=today(),
            ),
            SIGNER,
        )
    )
    assert expired.status == "expired" and expired.stored_status == "active"
    assert last_day.status == "active"  # valid through its last day

    def numbers(status):
        items, total = run(list_entries(EntryFilters(status=status)))
        assert total == len(items)
        return {i.entry_no for i in items}

    assert numbers("expired") == {"JN-EXPIRED"}
    assert numbers("active") == {"JN-LAST-DAY"}
    verdict = run(verification.verify(token_for_entry(expired.id)))
    assert verdict.result == "expired"
    # Nothing was written to make it expire.
    assert len(run(load_history(expired.id))) == 1


def test_a_suspended_entry_past_its_date_shows_suspended(enterprise, run):
    run(
        create_entry(
            new(
                "jinnong_product",
                extra=JINNONG_EXTRA,
                entry_no="JN-S",
                valid_from=today() - dt.timedelta(days=400),
                valid_until=today() - dt.timedelta(days=1),
            ),
            SIGNER,
        )
    )
    entry = run(change_entry_status("JN-S", "suspend", "抽检不合格", signed_by=SIGNER))
    assert entry.status == "suspended"  # the stronger, explicit status wins over expiry
    expired, _ = run(list_entries(EntryFilters(status="expired")))
    suspended, _ = run(list_entries(EntryFilters(status="suspended")))
    assert expired == [] and [e.entry_no for e in suspended] == ["JN-S"]


# --- verification cache ------------------------------------------------------------------------


def test_verification_sees_a_status_change_at_once(entry_no, run):
    entry = run(get_entry(entry_no))
    token = token_for_entry(entry.id)
    assert run(verification.verify(token)).result == "valid"
    assert run(verification.verify(token)).result == "valid"  # now served from memory
    run(change_entry_status(entry_no, "suspend", "抽检不合格", signed_by=SIGNER))
    verdict = run(verification.verify(token))
    assert verdict.result == "suspended"
    assert verdict.reason == "抽检不合格"
    assert verdict.snapshot.history[0].to_status == "suspended"
    run(change_entry_status(entry_no, "restore", "整改合格", signed_by=SIGNER))
    assert run(verification.verify(token)).result == "valid"


def test_verify_not_genuine_for_an_unknown_id(enterprise, run):
    # A correctly signed code for a listing that does not exist is still not genuine.
    verdict = run(verification.verify(token_for_entry(987654)))
    assert verdict.result == "not_genuine" and not verdict.genuine


# --- enterprises ----------------------------------------------------------------------------------


def _bad_checksum(code: str) -> str:
    right = code[-1]
    wrong = "0" if right != "0" else "1"
    assert check_character(code[:17]) != wrong
    return code[:17] + wrong


def test_bad_checksum_needs_staff_confirmation(empty_db, run):
    bad = _bad_checksum(make_uscc("91120104MA05PL0T8"))
    with pytest.raises(ServiceError) as caught:
        run(upsert_enterprise(bad, "天津试点企业有限公司", "120104"))
    assert caught.value.field == "uscc"
    assert "校验位" in caught.value.zh
    assert run(get_enterprise_by_uscc(bad)) is None

    run(upsert_enterprise(bad, "天津试点企业有限公司", "120104", confirmed_by="张审核"))
    stored = run(get_enterprise_by_uscc(bad))
    assert stored is not None
    assert stored.uscc == bad
    assert stored.uscc_checksum_ok is False
    assert stored.uscc_confirmed_by == "张审核"


def test_malformed_code_is_refused_even_when_confirmed(empty_db, run):
    with pytest.raises(ServiceError):
        run(upsert_enterprise("91120104MA05", "短代码公司", confirmed_by="张审核"))
    assert count(run, Enterprise) == 0


def test_good_code_is_stored_normalised_and_updated_in_place(empty_db, run):
    run(upsert_enterprise(USCC.lower(), "天津测试食品有限公司", "120101"))
    run(upsert_enterprise(USCC, "天津测试食品股份有限公司", "120101", confirmed_by="张审核"))
    assert count(run, Enterprise) == 1
    stored = run(get_enterprise_by_uscc(USCC))
    assert stored.name == "天津测试食品股份有限公司"
    assert stored.uscc_checksum_ok is True
    assert stored.uscc_confirmed_by is None  # nothing to confirm


def test_enterprise_district_must_be_known(empty_db, run):
    with pytest.raises(ServiceError) as caught:
        run(upsert_enterprise(USCC, "天津测试食品有限公司", "110101"))
    assert caught.value.field == "district_code"


def test_caches_are_cleared_once_after_the_outermost_commit(empty_db, run):
    """Nested writes (an import, an enterprise made with its entry) clear the public
    caches after the outer commit, never before it and never on a rollback."""
    from registry.db import write_transaction
    from registry.services import cache

    async def nested(fail: bool) -> tuple[int, int]:
        start = cache.generation()
        async with write_transaction():
            async with write_transaction():
                pass
            inside = cache.generation()  # the inner block did not clear anything yet
            if fail:
                raise RuntimeError("rolled back")
        return start, inside

    start, inside = run(nested(False))
    assert inside == start
    assert cache.generation() == start + 1

    before = cache.generation()
    with pytest.raises(RuntimeError):
        run(nested(True))
    assert cache.generation() == before
