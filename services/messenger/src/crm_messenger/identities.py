"""A customer's Messenger identities, (Page, PSID), and the SQL conditions that find what is
stored on them: the PDPA statements of every capability select and delete with these, so an
erasure and an export match exactly the same rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, false, or_

from crm_contracts import ChannelIdentity
from crm_servicekit.pdpa import needle_forms

# (page_id, psid); a page_id of None matches the PSID on every Page.
Identity = tuple[str | None, str]


def messenger_identities(identities: Sequence[ChannelIdentity]) -> list[Identity]:
    return [(i.page_id, i.external_id) for i in identities if i.channel == "messenger" and i.external_id]


def of_identities(page_id: Any, psid: Any, identities: Sequence[Identity]) -> ColumnElement[bool]:
    """Rows whose (`page_id`, `psid`) columns are one of these identities."""
    if not identities:
        return false()
    return or_(
        *(
            and_(psid == external_id, page_id == page) if page else psid == external_id
            for page, external_id in identities
        )
    )


def mentions(column: Any, psids: Sequence[str]) -> ColumnElement[bool]:
    """A JSON column whose text contains any of the PSIDs (in any JSON spelling)."""
    text = cast(column, Text)
    forms = needle_forms(psids)
    if not forms:
        return false()
    return or_(*(text.contains(form, autoescape=True) for form in forms))
