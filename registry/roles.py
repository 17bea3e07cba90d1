"""Staff roles and what each may do: the one table every staff route and service reads.

clerk (受理) records and edits listings and imports spreadsheets; reviewer (审核) checks
them and may suspend a listing at once when a problem appears; approver (批准) signs the
decisions that end or restore a listing; admin runs registers and accounts.
"""

from __future__ import annotations

CLERK = "clerk"
REVIEWER = "reviewer"
APPROVER = "approver"
ADMIN = "admin"
ROLES = (CLERK, REVIEWER, APPROVER, ADMIN)
#: CLI and demo loader: trusted local operators, not a login role.
SYSTEM = "system"

ROLE_LABELS = {
    CLERK: ("受理", "Clerk"),
    REVIEWER: ("审核", "Reviewer"),
    APPROVER: ("批准", "Approver"),
    ADMIN: ("管理员", "Administrator"),
    SYSTEM: ("系统", "System"),
}

ALL_STAFF = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin.view": ALL_STAFF,
    "audit.view": ALL_STAFF,
    "entry.export": ALL_STAFF,
    "entry.create": frozenset({CLERK, ADMIN}),
    "entry.edit": frozenset({CLERK, ADMIN}),
    "entry.import": frozenset({CLERK, ADMIN}),
    "authorised_user.create": frozenset({CLERK, ADMIN}),
    "enterprise.edit": frozenset({CLERK, ADMIN}),
    "enterprise.confirm_uscc": frozenset({REVIEWER, APPROVER, ADMIN}),
    # Status actions: a reviewer can stop a mark at once; ending or restoring it is signed
    # by an approver.
    "entry.suspend": frozenset({REVIEWER, APPROVER, ADMIN}),
    "entry.restore": frozenset({APPROVER, ADMIN}),
    "entry.revoke": frozenset({APPROVER, ADMIN}),
    "entry.withdraw": frozenset({APPROVER, ADMIN}),
    "entry.remove": frozenset({APPROVER, ADMIN}),
    "entry.pass_with_conditions": frozenset({APPROVER, ADMIN}),
    "entry.confirm_conditions": frozenset({APPROVER, ADMIN}),
    "entry.fail_conditions": frozenset({APPROVER, ADMIN}),
    "register.edit": frozenset({ADMIN}),
    "staff.manage": frozenset({ADMIN}),
}


def allowed(role: str, permission: str) -> bool:
    if role == SYSTEM:
        return True
    return role in PERMISSIONS.get(permission, frozenset())


def role_label(role: str, lang: str) -> str:
    zh, en = ROLE_LABELS.get(role, (role, role))
    return en if lang == "en" else zh
