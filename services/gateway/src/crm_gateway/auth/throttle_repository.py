"""Sign-in rate limits per account and per client address, shared by every gateway replica: the
SQL of the sign-in throttle, and the keys it counts by.

Fixed windows in `login_throttle`: an attempt is counted *before* the password is checked, in
one upsert of both counters committed at once, and a success gives its attempt back (and clears
the account's counter). Counting first means a burst of parallel guesses cannot all slip past a
check made before any of them failed, and committing at once means no request holds the rows
locked while argon2 runs.

Keys are hashed: the table never holds an e-mail address or an IP address. Unknown e-mail
addresses are counted like known ones, so the limits reveal nothing about who has an account.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.errors import TooManyAttempts
from crm_gateway.auth.models import login_throttle as t
from crm_gateway.config import GatewaySettings


def account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def address_key(address: str) -> str:
    return "address:" + hashlib.sha256(address.encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: what a success needs to give it back."""

    account_key: str
    address_key: str
    address_window_started_at: datetime


async def count_attempt(
    session: AsyncSession, settings: GatewaySettings, email: str, address: str
) -> Attempt:
    """Count one attempt for `email` and `address` and commit; `TooManyAttempts` past a limit.

    Commits the caller's transaction: the count must be visible to every replica (and the row
    locks released) before the slow password check starts.
    """
    window = timedelta(seconds=settings.crm_login_window_seconds)
    keys = {
        account_key(email): settings.crm_login_max_failures_per_account,
        address_key(address): settings.crm_login_max_failures_per_address,
    }
    current = t.c.window_started_at > func.now() - window
    # Always account before address: concurrent upserts take the row locks in the same order.
    stmt = (
        insert(t)
        .values([{"key": key, "failures": 1, "window_started_at": func.now()} for key in keys])
        .on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "failures": case((current, t.c.failures + 1), else_=1),
                "window_started_at": case((current, t.c.window_started_at), else_=func.now()),
            },
        )
        .returning(t.c.key, t.c.failures, t.c.window_started_at, func.now().label("now"))
    )
    rows = {row.key: row for row in await session.execute(stmt)}
    await session.commit()

    over = [row for key, row in rows.items() if row.failures > keys[key]]
    if over:
        ends = max(row.window_started_at + window for row in over)
        raise TooManyAttempts(max(1, math.ceil((ends - over[0].now).total_seconds())))
    address_row = rows[address_key(address)]
    return Attempt(account_key(email), address_row.key, address_row.window_started_at)


async def forgive(session: AsyncSession, attempt: Attempt) -> None:
    """A success: the account starts afresh and the address gets its attempt back."""
    await session.execute(delete(t).where(t.c.key == attempt.account_key))
    await session.execute(
        update(t)
        .where(t.c.key == attempt.address_key, t.c.window_started_at == attempt.address_window_started_at)
        .values(failures=func.greatest(t.c.failures - 1, 0))
    )


async def clear_account(session: AsyncSession, email: str) -> None:
    """An admin set a new password: let its owner sign in with it at once."""
    await session.execute(delete(t).where(t.c.key == account_key(email)))


async def purge(session: AsyncSession, *, window: timedelta) -> int:
    """Delete counters whose window has passed (the next attempt would restart them anyway)."""
    result = await session.execute(
        delete(t).where(t.c.window_started_at < func.now() - window).returning(t.c.key)
    )
    return len(result.all())
