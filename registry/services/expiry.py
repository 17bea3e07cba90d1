"""What needs attention soon: listings near their end date, conditional passes near
their deadline, and listings that expired recently.

Expiry is computed from dates (see ``statuses.effective_status``), so these are plain
date-range queries: nothing depends on a scheduled job having run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from registry import statuses
from registry.services.entries import EntryRecord, records_from_rows, select_entries, today
from registry.tables import Entry

#: The bands of the dashboard: (first day, last day) counted from today, inclusive.
BANDS = ((0, 30), (31, 60), (61, 90))
CONDITION_WARNING_DAYS = 30
RECENTLY_EXPIRED_DAYS = 90
#: Rows shown per section; the count always covers all of them.
SECTION_LIMIT = 200


@dataclass
class Section:
    key: str
    count: int
    items: list[EntryRecord] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.count > len(self.items)


@dataclass
class ExpiryReport:
    on: dt.date
    expiring: list[Section]  # one per band in BANDS
    conditions_due: Section  # conditional, deadline within 30 days or already past
    recently_expired: Section  # end date in the last 90 days while still listed as valid


async def _section(key: str, condition, order, ascending: bool, limit: int) -> Section:
    count = await Entry.count().where(condition)
    rows = await (
        select_entries()
        .where(condition)
        .order_by(order, ascending=ascending)
        .order_by(Entry.entry_no)
        .limit(limit)
    )
    return Section(key, count, await records_from_rows(rows))


async def expiry_report(on: dt.date | None = None, limit: int = SECTION_LIMIT) -> ExpiryReport:
    on = on or today()
    valid = Entry.status.is_in(list(statuses.VALID_STATUSES))
    expiring = []
    for first, last in BANDS:
        start, end = on + dt.timedelta(days=first), on + dt.timedelta(days=last)
        condition = valid & (Entry.valid_until >= start) & (Entry.valid_until <= end)
        expiring.append(
            await _section(f"{first}-{last}", condition, Entry.valid_until, True, limit)
        )
    conditions_due = await _section(
        "conditions",
        (Entry.status == statuses.CONDITIONAL)
        & (Entry.condition_deadline <= on + dt.timedelta(days=CONDITION_WARNING_DAYS)),
        Entry.condition_deadline,
        True,
        limit,
    )
    recently_expired = await _section(
        "expired",
        valid
        & (Entry.valid_until < on)
        & (Entry.valid_until >= on - dt.timedelta(days=RECENTLY_EXPIRED_DAYS)),
        Entry.valid_until,
        False,
        limit,
    )
    return ExpiryReport(on, expiring, conditions_due, recently_expired)
