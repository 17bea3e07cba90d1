"""The verification hot path: token -> verdict.

1. The token is checked by its MAC alone (``registry.tokens.decode``): a forged or
   mistyped code never reaches the database.
2. A genuine token's listing is read from an in-memory snapshot (see ``cache``),
   loaded once from the database and dropped on every change.
3. The verdict is computed per request from the snapshot and today's date, so
   expiry needs no scheduled job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from registry import statuses, tokens
from registry.services import cache
from registry.services.entries import (
    AuthorisedUserRecord,
    EntryRecord,
    HistoryRecord,
    get_authorised_user_by_id,
    get_entry_by_id,
    load_history,
    today,
)
from registry.settings import get_settings

_MISSING = object()


@dataclass(frozen=True)
class Snapshot:
    entry: EntryRecord
    user: AuthorisedUserRecord | None
    history: tuple[HistoryRecord, ...]
    #: Pages rendered from this snapshot by the public site; they expire with it.
    pages: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Verdict:
    token: str
    result: str  # valid, valid_with_conditions, suspended, ..., not_genuine
    status: str | None  # the status that decided the result
    decided_by: str | None  # "entry", "authorised_user" or "gi" (the GI mark itself)
    snapshot: Snapshot | None

    @property
    def genuine(self) -> bool:
        return self.snapshot is not None

    @property
    def label(self) -> statuses.StatusLabel | None:
        return statuses.LABELS.get(self.status) if self.status else None

    @property
    def reason(self) -> str:
        if self.snapshot is None:
            return ""
        if self.decided_by == "authorised_user" and self.snapshot.user:
            return self.snapshot.user.status_reason
        return self.snapshot.entry.status_reason


def not_genuine(text: str) -> Verdict:
    return Verdict(text, statuses.NOT_GENUINE_RESULT, None, None, None)


async def verify(text: str, on: dt.date | None = None) -> Verdict:
    try:
        token = tokens.decode(tokens.get_keyring(), text)
    except tokens.TokenError:
        return not_genuine(text)
    snapshot = await _snapshot(token)
    if snapshot is None:
        return not_genuine(text)
    return judge(token.text, snapshot, on or today())


def judge(token_text: str, snapshot: Snapshot, on: dt.date) -> Verdict:
    entry = snapshot.entry
    entry_status = statuses.effective_status(entry.stored_status, entry.valid_until, on)
    if snapshot.user is None:
        return Verdict(
            token_text, statuses.LABELS[entry_status].result, entry_status, "entry", snapshot
        )
    # An authorised user's mark is only as good as the GI itself.
    if entry_status not in statuses.VALID_STATUSES:
        return Verdict(
            token_text, statuses.LABELS[entry_status].result, entry_status, "gi", snapshot
        )
    user = snapshot.user
    user_status = statuses.effective_status(user.stored_status, user.valid_until, on)
    return Verdict(
        token_text, statuses.LABELS[user_status].result, user_status, "authorised_user", snapshot
    )


async def _snapshot(token: tokens.Token) -> Snapshot | None:
    key = (token.kind, token.ref_id)
    ttl = get_settings().verify_cache_ttl
    hit = cache.get(key, ttl)
    if hit is not None:
        return None if hit is _MISSING else hit
    # Single flight: when a snapshot expires under load, one request reads the
    # database and the others wait for it, instead of all of them reading at once.
    pending = _loading.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future = asyncio.get_running_loop().create_future()
    _loading[key] = future
    try:
        generation = cache.generation()
        snapshot = await _load(token)
        cache.put(key, _MISSING if snapshot is None else snapshot, generation)
        future.set_result(snapshot)
        return snapshot
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "exception never retrieved" without waiters
        raise
    finally:
        del _loading[key]


_loading: dict[tuple[int, int], asyncio.Future] = {}


async def _load(token: tokens.Token) -> Snapshot | None:
    if token.kind == tokens.KIND_ENTRY:
        entry = await get_entry_by_id(token.ref_id)
        if entry is None:
            return None
        return Snapshot(entry, None, tuple(await load_history(entry.id)))
    if token.kind == tokens.KIND_AUTHORISED_USER:
        user = await get_authorised_user_by_id(token.ref_id)
        if user is None:
            return None
        entry = await get_entry_by_id(user.entry_id)
        if entry is None:
            return None
        history = [h for h in await load_history(entry.id) if h.user_no in (None, user.user_no)]
        return Snapshot(entry, user, tuple(history))
    # Per-item codes (serialized batches) are not issued yet.
    return None


NOT_GENUINE_ZH = "这不是本名录签发的真实代码：可能是伪造的，也可能是输入有误。"
NOT_GENUINE_EN = "This is not a genuine code issued by the registry: it may be forged, or mistyped."


def verdict_message(verdict: Verdict) -> tuple[str, str]:
    """One sentence in each language for the one-glance answer."""
    label = verdict.label
    if label is None:
        return NOT_GENUINE_ZH, NOT_GENUINE_EN
    if verdict.decided_by == "gi":
        return (
            f"使用人代码真实，但地理标志本身{label.zh}。",
            f"The user's code is genuine, but the geographic indication itself is "
            f"{label.en.lower()}.",
        )
    return label.verdict_zh, label.verdict_en
