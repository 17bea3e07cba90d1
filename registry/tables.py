"""Piccolo tables: registers and subtypes (data, not code), enterprises, entries,
GI authorised users and the status history that every change writes."""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Register(Table, tablename="register"):
    """One of the city's registers (名牌产品, 老字号, 津农精品, certifications, GIs)."""

    code = Varchar(length=32, unique=True, index=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=200)
    description_zh = Text(default="")
    description_en = Text(default="")
    authority_zh = Varchar(length=200)
    authority_en = Varchar(length=300)
    # Closing a register stops new applications; lookups of its entries go on.
    open_for_applications = Boolean(default=True)
    closed_note_zh = Text(default="")
    closed_note_en = Text(default="")
    # [{"code": "meat", "zh": "肉", "en": "Meat"}, ...]: the industry categories offered.
    industries = JSON(default="[]")
    sort_order = Integer(default=0)


class Subtype(Table, tablename="subtype"):
    """A subtype carries the resolved rules: validity, notice period, numbering, fields."""

    register = ForeignKey(references=Register, index=True)
    code = Varchar(length=48, unique=True, index=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=200)
    authority_zh = Varchar(length=200)
    authority_en = Varchar(length=300)
    validity_years = Integer(null=True, default=None)  # None: no fixed term
    notice_days = Integer(null=True, default=None)  # None: no public notice
    notice_working_days = Boolean(default=False)
    number_format = Varchar(length=120)
    # [{"key", "label_zh", "label_en", "type", "required", "choices"?}, ...]
    extra_fields = JSON(default="[]")
    sort_order = Integer(default=0)


class Enterprise(Table, tablename="enterprise"):
    """An enterprise or association, keyed by its unified social credit code."""

    uscc = Varchar(length=18, unique=True, index=True)
    name = Varchar(length=200, index=True)
    name_en = Varchar(length=300, default="")
    district_code = Varchar(length=6, default="")
    address = Varchar(length=300, default="")
    # A code that fails the GB 32100 check digit (early pilot regions) is kept but
    # must be confirmed by a named staff member before it counts as checked.
    uscc_checksum_ok = Boolean(default=True)
    uscc_confirmed_by = Varchar(length=100, null=True, default=None)
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Entry(Table, tablename="entry"):
    """A listing in a register: one certificate, one QR code."""

    entry_no = Varchar(length=64, unique=True, index=True)
    register = ForeignKey(references=Register, index=True)
    subtype = ForeignKey(references=Subtype, index=True)
    name = Varchar(length=200, index=True)
    name_en = Varchar(length=300, default="")
    enterprise = ForeignKey(references=Enterprise, index=True)
    district_code = Varchar(length=6, default="", index=True)
    industry = Varchar(length=32, default="")
    authority_zh = Varchar(length=200)
    authority_en = Varchar(length=300, default="")
    valid_from = Date()
    valid_until = Date(null=True, default=None)  # None: indefinite
    # Stored status; "expired" is never stored, it is computed from valid_until.
    status = Varchar(length=16, default="active", index=True)
    status_reason = Text(default="")
    condition_deadline = Date(null=True, default=None)
    extra = JSON(default="{}")
    image = Varchar(length=300, null=True, default=None)
    description = Text(default="")
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AuthorisedUser(Table, tablename="authorised_user"):
    """An enterprise allowed to use a geographic-indication mark, with its own code."""

    entry = ForeignKey(references=Entry, index=True)
    enterprise = ForeignKey(references=Enterprise, index=True)
    user_no = Varchar(length=64, unique=True, index=True)
    valid_from = Date()
    valid_until = Date(null=True, default=None)
    status = Varchar(length=16, default="active")
    status_reason = Text(default="")
    condition_deadline = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StatusChange(Table, tablename="status_change"):
    """History: when, from, to, reason, who signed (谁签字，谁担责)."""

    entry = ForeignKey(references=Entry, index=True)
    authorised_user = ForeignKey(references=AuthorisedUser, null=True, default=None, index=True)
    changed_at = Timestamptz(default=TimestamptzNow())
    from_status = Varchar(length=16, null=True, default=None)
    to_status = Varchar(length=16)
    reason = Text(default="")
    signed_by = Varchar(length=100)


class StaffUser(Table, tablename="staff_user"):
    """A certification-staff account (separate from enterprise accounts)."""

    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=100, default="")
    role = Varchar(length=16)  # clerk, reviewer, approver, admin
    password_hash = Varchar(length=200)
    totp_secret = Varchar(length=64, null=True, default=None)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="audit_event"):
    """One change to registry data, chained to the previous event by its hash.

    ``hash`` = SHA-256 over the previous event's hash and this event's canonical JSON,
    so changing or deleting any stored event breaks every hash after it."""

    seq = Integer(unique=True, index=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=100)
    actor_role = Varchar(length=16, default="")
    action = Varchar(length=64, index=True)  # e.g. entry.suspend
    target_type = Varchar(length=32, default="")
    target_id = Varchar(length=100, default="", index=True)
    client_addr = Varchar(length=64, default="")
    before = Text(default="null")
    after = Text(default="null")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


ALL_TABLES = [
    Register,
    Subtype,
    Enterprise,
    Entry,
    AuthorisedUser,
    StatusChange,
    StaffUser,
    AuditEvent,
]
