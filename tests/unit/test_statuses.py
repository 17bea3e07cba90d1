"""Status vocabulary and transition rules (registry/statuses.py)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry import statuses
from registry.statuses import (
    ACTIONS,
    ALL_STATUSES,
    STORED_STATUSES,
    StatusRuleError,
    add_months,
    check_transition,
    effective_status,
)

TODAY = dt.date(2024, 5, 15)
GOOD_DEADLINE = TODAY + dt.timedelta(days=30)

# The rules, written out independently of ACTIONS (design brief, section 2).
EXPECTED_RULES = {
    "suspend": ({"active", "conditional"}, "suspended"),
    "restore": ({"suspended"}, "active"),
    "revoke": ({"active", "conditional", "suspended"}, "revoked"),
    "withdraw": ({"active", "conditional", "suspended"}, "withdrawn"),
    "remove": ({"active", "conditional", "suspended"}, "removed"),
    "pass_with_conditions": ({"active"}, "conditional"),
    "confirm_conditions": ({"conditional"}, "active"),
    "fail_conditions": ({"conditional"}, "removed"),
}


def test_vocabulary():
    assert set(ALL_STATUSES) == {
        "active",
        "conditional",
        "suspended",
        "revoked",
        "withdrawn",
        "expired",
        "removed",
    }
    assert "expired" not in STORED_STATUSES  # computed, never stored
    assert set(STORED_STATUSES) == set(ALL_STATUSES) - {"expired"}
    assert set(statuses.LABELS) == set(ALL_STATUSES)
    results = [label.result for label in statuses.LABELS.values()]
    assert len(set(results)) == len(results)
    assert statuses.NOT_GENUINE_RESULT not in results
    for status, label in statuses.LABELS.items():
        assert label.zh and label.en and label.verdict_zh and label.verdict_en
        assert label.tone == (
            "ok" if status == "active" else "warn" if status == "conditional" else "bad"
        )


def test_actions_cover_the_expected_rules():
    assert set(ACTIONS) == set(EXPECTED_RULES)


# --- effective status --------------------------------------------------------------------


@pytest.mark.parametrize("stored", ["active", "conditional"])
def test_valid_listing_past_end_date_is_expired(stored):
    end = dt.date(2024, 3, 31)
    assert effective_status(stored, end, dt.date(2024, 4, 1)) == "expired"
    assert effective_status(stored, end, dt.date(2030, 1, 1)) == "expired"
    # The last day is still valid.
    assert effective_status(stored, end, end) == stored
    assert effective_status(stored, end, dt.date(2024, 3, 1)) == stored


@pytest.mark.parametrize("stored", STORED_STATUSES)
def test_no_end_date_never_expires(stored):
    assert effective_status(stored, None, dt.date(9999, 12, 31)) == stored


@pytest.mark.parametrize("stored", ["suspended", "revoked", "withdrawn", "removed"])
def test_inactive_statuses_stay_what_they_are_past_end_date(stored):
    assert effective_status(stored, dt.date(2020, 1, 1), dt.date(2024, 1, 1)) == stored


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(STORED_STATUSES),
    st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))),
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
)
def test_effective_status_property(stored, valid_until, today):
    result = effective_status(stored, valid_until, today)
    assert result in ALL_STATUSES
    if stored in ("active", "conditional") and valid_until is not None and today > valid_until:
        assert result == "expired"
    else:
        assert result == stored


# --- transitions -------------------------------------------------------------------------

TRANSITION_CASES = [
    (action, status) for action in sorted(EXPECTED_RULES) for status in ALL_STATUSES
]


@pytest.mark.parametrize(("action_name", "status"), TRANSITION_CASES)
def test_transition_table(action_name, status):
    allowed_from, to_status = EXPECTED_RULES[action_name]
    if status in allowed_from:
        action = check_transition(action_name, status, "整改完成", TODAY, GOOD_DEADLINE)
        assert action.name == action_name
        assert action.to_status == to_status
    else:
        with pytest.raises(StatusRuleError) as info:
            check_transition(action_name, status, "整改完成", TODAY, GOOD_DEADLINE)
        err = info.value
        action = ACTIONS[action_name]
        assert err.zh and err.en
        assert action.label_zh in err.zh
        assert statuses.LABELS[status].zh in err.zh
        assert action.label_en in err.en
        assert str(err) == err.en
        assert isinstance(err, ValueError)


@pytest.mark.parametrize("terminal", ["revoked", "withdrawn", "removed", "expired"])
def test_no_action_leaves_a_terminal_status(terminal):
    for action_name in ACTIONS:
        with pytest.raises(StatusRuleError):
            check_transition(action_name, terminal, "reason", TODAY, GOOD_DEADLINE)


@pytest.mark.parametrize("action_name", sorted(EXPECTED_RULES))
@pytest.mark.parametrize("reason", ["", " ", "\t\n", "\u3000"])
def test_reason_is_required(action_name, reason):
    allowed_from, _ = EXPECTED_RULES[action_name]
    status = sorted(allowed_from)[0]
    with pytest.raises(StatusRuleError) as info:
        check_transition(action_name, status, reason, TODAY, GOOD_DEADLINE)
    assert "原因" in info.value.zh
    assert "reason" in info.value.en.lower()


def test_unknown_action():
    with pytest.raises(StatusRuleError) as info:
        check_transition("resurrect", "revoked", "because", TODAY)
    assert "resurrect" in info.value.en
    assert "resurrect" in info.value.zh


@pytest.mark.parametrize("action_name", sorted(set(EXPECTED_RULES) - {"pass_with_conditions"}))
def test_other_actions_need_no_deadline(action_name):
    status = sorted(EXPECTED_RULES[action_name][0])[0]
    assert (
        check_transition(action_name, status, "reason", TODAY).to_status
        == (EXPECTED_RULES[action_name][1])
    )


# --- pass with conditions: deadline ------------------------------------------------------


def test_pass_with_conditions_requires_deadline():
    with pytest.raises(StatusRuleError) as info:
        check_transition("pass_with_conditions", "active", "整改", TODAY, None)
    assert "期限" in info.value.zh
    assert "deadline" in info.value.en.lower()


@pytest.mark.parametrize(
    ("today", "deadline", "ok"),
    [
        (TODAY, TODAY, False),  # not after today
        (TODAY, TODAY - dt.timedelta(days=1), False),
        (TODAY, TODAY + dt.timedelta(days=1), True),
        (TODAY, dt.date(2024, 11, 15), True),  # exactly 6 months
        (TODAY, dt.date(2024, 11, 16), False),
        (TODAY, dt.date(2025, 5, 15), False),
        # 31 Aug + 6 months clamps to the end of February (leap year 2024).
        (dt.date(2023, 8, 31), dt.date(2024, 2, 29), True),
        (dt.date(2023, 8, 31), dt.date(2024, 3, 1), False),
        # ... and in a common year.
        (dt.date(2022, 8, 31), dt.date(2023, 2, 28), True),
        (dt.date(2022, 8, 31), dt.date(2023, 3, 1), False),
        # Across a year end.
        (dt.date(2023, 12, 31), dt.date(2024, 6, 30), True),
        (dt.date(2023, 12, 31), dt.date(2024, 7, 1), False),
    ],
)
def test_pass_with_conditions_deadline_window(today, deadline, ok):
    if ok:
        action = check_transition("pass_with_conditions", "active", "整改", today, deadline)
        assert action.to_status == "conditional"
        assert action.needs_deadline
    else:
        with pytest.raises(StatusRuleError) as info:
            check_transition("pass_with_conditions", "active", "整改", today, deadline)
        latest = add_months(today, 6).isoformat()
        assert latest in info.value.zh
        assert latest in info.value.en


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2023, 8, 31), 6, dt.date(2024, 2, 29)),
        (dt.date(2022, 8, 31), 6, dt.date(2023, 2, 28)),
        (dt.date(2024, 8, 31), 6, dt.date(2025, 2, 28)),
        (dt.date(2099, 8, 31), 6, dt.date(2100, 2, 28)),  # 2100 is not a leap year
        (dt.date(1999, 8, 31), 6, dt.date(2000, 2, 29)),  # 2000 is
        (dt.date(2023, 8, 30), 6, dt.date(2024, 2, 29)),
        (dt.date(2023, 8, 29), 6, dt.date(2024, 2, 29)),
        (dt.date(2023, 8, 28), 6, dt.date(2024, 2, 28)),
        (dt.date(2023, 3, 31), 6, dt.date(2023, 9, 30)),
        (dt.date(2023, 7, 31), 6, dt.date(2024, 1, 31)),
        (dt.date(2023, 12, 15), 6, dt.date(2024, 6, 15)),
        (dt.date(2024, 1, 1), 0, dt.date(2024, 1, 1)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2024, 1, 31), 12, dt.date(2025, 1, 31)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
    ],
)
def test_add_months_examples(day, months, expected):
    assert add_months(day, months) == expected


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), st.integers(0, 48))
def test_add_months_matches_reference(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    assert add_months(day, months) == dt.date(year, month, min(day.day, last))
