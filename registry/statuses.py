"""The status vocabulary shared by every register, and the rules between statuses.

Anchors: IAF CertSearch and the USDA Organic Integrity Database.  ``expired`` is never
stored: it is computed from ``valid_until`` so a cron job that did not run cannot
leave an expired mark looking valid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ACTIVE = "active"
CONDITIONAL = "conditional"
SUSPENDED = "suspended"
REVOKED = "revoked"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
REMOVED = "removed"

STORED_STATUSES = (ACTIVE, CONDITIONAL, SUSPENDED, REVOKED, WITHDRAWN, REMOVED)
ALL_STATUSES = (ACTIVE, CONDITIONAL, SUSPENDED, REVOKED, WITHDRAWN, EXPIRED, REMOVED)
VALID_STATUSES = (ACTIVE, CONDITIONAL)

#: The longest a conditional pass may run before it must be confirmed or failed
#: (2023 national 老字号 review: at most 6 months to put things right).
MAX_CONDITION_MONTHS = 6


@dataclass(frozen=True)
class StatusLabel:
    zh: str
    en: str
    #: The verdict a consumer reads on the verification page.
    verdict_zh: str
    verdict_en: str
    #: API ``result`` for a verification.
    result: str
    #: CSS tone: ok, warn, bad.
    tone: str


LABELS: dict[str, StatusLabel] = {
    ACTIVE: StatusLabel("有效", "Valid", "真实有效", "Genuine and valid", "valid", "ok"),
    CONDITIONAL: StatusLabel(
        "附条件有效",
        "Valid with conditions",
        "真实，附条件有效",
        "Genuine, valid with conditions",
        "valid_with_conditions",
        "warn",
    ),
    SUSPENDED: StatusLabel(
        "暂停",
        "Suspended",
        "真实，但已被暂停使用",
        "Genuine, but suspended",
        "suspended",
        "bad",
    ),
    REVOKED: StatusLabel(
        "撤销", "Revoked", "真实，但已被撤销", "Genuine, but revoked", "revoked", "bad"
    ),
    WITHDRAWN: StatusLabel(
        "主动注销",
        "Withdrawn",
        "真实，但持有人已主动注销",
        "Genuine, but withdrawn by the holder",
        "withdrawn",
        "bad",
    ),
    EXPIRED: StatusLabel(
        "已过期", "Expired", "真实，但已过有效期", "Genuine, but expired", "expired", "bad"
    ),
    REMOVED: StatusLabel(
        "已移出名录",
        "Removed from the list",
        "真实，但已被移出名录",
        "Genuine, but removed from the list",
        "removed",
        "bad",
    ),
}

NOT_GENUINE_RESULT = "not_genuine"


def effective_status(stored: str, valid_until: dt.date | None, today: dt.date) -> str:
    """The status a consumer sees today: a valid listing past its end date is expired."""
    if stored in VALID_STATUSES and valid_until is not None and valid_until < today:
        return EXPIRED
    return stored


@dataclass(frozen=True)
class Action:
    name: str  # audit-style suffix, e.g. "suspend" for "entry.suspend"
    to_status: str
    from_statuses: tuple[str, ...]
    label_zh: str
    label_en: str
    needs_deadline: bool = False


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("suspend", SUSPENDED, (ACTIVE, CONDITIONAL), "暂停", "Suspend"),
        Action("restore", ACTIVE, (SUSPENDED,), "恢复", "Restore"),
        Action("revoke", REVOKED, (ACTIVE, CONDITIONAL, SUSPENDED), "撤销", "Revoke"),
        Action("withdraw", WITHDRAWN, (ACTIVE, CONDITIONAL, SUSPENDED), "注销", "Withdraw"),
        Action("remove", REMOVED, (ACTIVE, CONDITIONAL, SUSPENDED), "移出名录", "Remove"),
        Action(
            "pass_with_conditions",
            CONDITIONAL,
            (ACTIVE,),
            "附条件通过",
            "Pass with conditions",
            needs_deadline=True,
        ),
        Action("confirm_conditions", ACTIVE, (CONDITIONAL,), "确认通过", "Confirm pass"),
        Action("fail_conditions", REMOVED, (CONDITIONAL,), "整改未通过", "Fail conditions"),
    )
}


class StatusRuleError(ValueError):
    """A status change that the rules do not allow; carries both languages."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # Clamp to the month's last day (31 Aug + 6 months = 28/29 Feb).
    for d in range(day.day, 27, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))


def check_transition(
    action_name: str,
    stored_status: str,
    reason: str,
    today: dt.date,
    deadline: dt.date | None = None,
) -> Action:
    """Raise StatusRuleError unless ``action_name`` may be applied now."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise StatusRuleError(f"未知操作：{action_name}", f"Unknown action: {action_name}")
    if not reason.strip():
        raise StatusRuleError("请填写原因：状态变更须说明理由。", "A reason is required.")
    if stored_status not in LABELS:
        raise StatusRuleError(
            f"未知的当前状态：{stored_status}", f"Unknown status: {stored_status}"
        )
    if stored_status not in action.from_statuses:
        frm = LABELS[stored_status]
        raise StatusRuleError(
            f"当前状态为“{frm.zh}”，不能执行“{action.label_zh}”。",
            f"An entry that is {frm.en.lower()} cannot be given the action '{action.label_en}'.",
        )
    if action.needs_deadline:
        latest = add_months(today, MAX_CONDITION_MONTHS)
        if deadline is None:
            raise StatusRuleError("附条件通过须设定整改期限。", "A deadline is required.")
        if deadline <= today or deadline > latest:
            raise StatusRuleError(
                f"整改期限须在今天之后、{latest.isoformat()}（6个月）之前。",
                f"The deadline must be after today and no later than {latest.isoformat()} "
                "(6 months).",
            )
    return action
