"""One customer record of the old system → what the CRM stores. Pure: no I/O, no clock.

`map_customer` returns the typed record, the problems (per field: what could not be read, and
why) and `extra`: every key it does not recognise, unchanged, at its place in the original
nesting. A recognised value that cannot be read (a phone that is not a number, a date that is
not a date) is a problem and is kept in `extra` too, never guessed at; so is a second value of a
field that holds one (a second e-mail address goes to `extra["other_emails"]`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from crm_contracts import AdReferral, ChannelIdentity
from crm_servicekit.storable import storable, storable_json, unstorable, unstorable_in

from . import values
from .keys import (
    CONSENT_AT,
    CONSENT_METHOD,
    CONSENT_STATUS,
    CONTAINERS,
    NOTE_AT,
    NOTE_AUTHOR,
    NOTE_BODY,
    TABLES,
    Context,
    Field,
    canonical,
)
from .values import Unreadable

T = TypeVar("T")
Path = tuple[str, ...]
DEFAULT_CONSENT_METHOD = "legacy"


@dataclass(frozen=True)
class Problem:
    """`field` as the file spells it (`contact.เบอร์โทร`, `notes[2].date`), and why it was not read."""

    field: str
    reason: str


@dataclass(frozen=True)
class Note:
    body: str
    at: datetime | None = None


@dataclass(frozen=True)
class Consent:
    status: str  # granted | withdrawn
    at: datetime | None
    method: str


@dataclass(frozen=True)
class CustomerRecord:
    """What a record says about a customer; None (or `tags` None) means it does not say."""

    display_name: str | None = None
    name_th: str | None = None
    name_latin: str | None = None
    nickname: str | None = None
    phone: str | None = None
    email: str | None = None
    tags: tuple[str, ...] | None = None
    stage: str | None = None
    notes: tuple[Note, ...] = ()
    created_at: datetime | None = None
    consent: Consent | None = None
    touch: AdReferral | None = None
    identities: tuple[ChannelIdentity, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """The same record, however its file was spelt or formatted, has the same digest."""
        plain = {
            **{k: v for k, v in vars(self).items() if k not in ("touch", "identities", "notes", "consent")},
            "touch": self.touch.model_dump(mode="json", exclude_none=True) if self.touch else None,
            "identities": [i.model_dump(mode="json") for i in self.identities],
            "notes": [vars(n) for n in self.notes],
            "consent": vars(self.consent) if self.consent else None,
        }
        encoded = json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class MappedCustomer:
    record: CustomerRecord
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class _Found:
    field: Field
    path: Path
    value: Any

    @property
    def name(self) -> str:
        return storable(".".join(self.path))


def map_customer(
    raw: Mapping[str, Any], *, customer_id: str, default_page_id: str | None = None
) -> MappedCustomer:
    """`customer_id` is the file's name (or the CSV row's id column); `default_page_id` the
    Facebook page a PSID without one belongs to (PSIDs are page-scoped)."""
    m = _Mapper()
    m.walk(raw, "base", ())
    name = m.first("name", values.text)
    first, last = m.first("first_name", values.text), m.first("last_name", values.text)
    # `{"ชื่อ": "สมชาย", "นามสกุล": "ใจดี"}`: a "name" that is the first name only, beside a surname.
    parts = [p for p in (first, name, last) if p and (p is name or name is None or p not in name)]
    written = " ".join(parts) or None
    thai, latin = split_by_script(written) if written else (None, None)
    name_th, name_latin = m.first("name_th", values.text) or thai, m.first("name_latin", values.text) or latin
    phones = m.every("phone", values.phone_items, values.phone)
    emails = m.every("email", lambda item: [item], values.email)
    m.spill("other_phones", phones[1:])
    m.spill("other_emails", emails[1:])
    tag_lists = [t for f in m.take("tags") if (t := m.read(f, values.tags)) is not None]
    record = CustomerRecord(
        display_name=written or name_th or name_latin,
        name_th=name_th,
        name_latin=name_latin,
        nickname=m.first("nickname", values.text),
        phone=phones[0] if phones else None,
        email=emails[0] if emails else None,
        tags=tuple(dict.fromkeys(t for ts in tag_lists for t in ts)) if tag_lists else None,
        stage=m.first("stage", values.stage),
        notes=m.notes(),
        created_at=m.first("created", values.when),
        consent=m.consent(),
        touch=m.touch(),
        identities=m.identities(default_page_id),
    )
    content_id = m.take("customer_id")
    for found in content_id:
        if found.value != customer_id:
            m.problem(found, "differs from the file's customer id, which is the one used")
    return MappedCustomer(replace(record, extra=m.extra), tuple(m.problems))


_THAI = re.compile(r"[\u0e00-\u0e7f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def split_by_script(name: str) -> tuple[str | None, str | None]:
    """`"สมชาย ใจดี (Somchai Jaidee)"` → (`"สมชาย ใจดี"`, `"Somchai Jaidee"`): words by script."""
    words = [w.strip(".,-") for w in re.split(r"[\s()\[\]/|,]+", name)]
    thai = [w for w in words if _THAI.search(w)]
    latin = [w for w in words if w and not _THAI.search(w) and _LATIN.search(w)]
    return " ".join(thai) or None, " ".join(latin) or None


class _Mapper:
    """Collects the recognised values of one record, then reads them field by field."""

    def __init__(self) -> None:
        self.found: list[_Found] = []
        self.extra: dict[str, Any] = {}
        self.problems: list[Problem] = []

    def walk(self, obj: Mapping[str, Any], context: Context, path: Path) -> None:
        table = TABLES[context]
        for key, value in obj.items():
            ck, here = canonical(str(key)), (*path, storable(str(key)))
            if isinstance(value, dict) and ck in CONTAINERS:
                self.walk(value, CONTAINERS[ck], here)
            elif (recognised := table.get(ck)) is not None and value not in (None, "", []):
                self.found.append(_Found(recognised, here, value))
            elif recognised is None:
                for at, why in unstorable_in({str(key): value}):
                    where = ".".join(str(part) for part in (*path, *at))
                    self.problems.append(Problem(where, f"{why}; kept in extra without it"))
                self.keep(here, value)

    # --- reading ---

    def take(self, name: Field) -> list[_Found]:
        return [f for f in self.found if f.field == name]

    def read(self, found: _Found, reader: Callable[[Any], T]) -> T | None:
        try:
            return reader(found.value)
        except Unreadable as exc:
            self.problem(found, str(exc))
            return None

    def first(self, name: Field, reader: Callable[[Any], T]) -> T | None:
        """The first readable value; a later different one is kept in `extra`."""
        chosen: T | None = None
        for found in self.take(name):
            value = self.read(found, reader)
            if value is None:
                continue
            if chosen is None:
                chosen = value
            elif value != chosen:
                self.keep(found.path, found.value)
        return chosen

    def every(
        self, name: Field, split: Callable[[Any], list[Any]], reader: Callable[[Any], str]
    ) -> list[str]:
        """Every readable item of every occurrence (phones, e-mails), without repeats."""
        out: list[str] = []
        for found in self.take(name):
            is_list = isinstance(found.value, list)
            bad: list[Any] = []
            for i, item in enumerate(found.value if is_list else [found.value]):
                for part in split(item):
                    try:
                        value = reader(part)
                    except Unreadable as exc:
                        self.problems.append(
                            Problem(f"{found.name}[{i}]" if is_list else found.name, str(exc))
                        )
                        bad.append(part)
                        continue
                    if value not in out:
                        out.append(value)
            if bad:
                self.keep(found.path, bad if is_list or len(bad) > 1 else bad[0])
        return out

    def notes(self) -> tuple[Note, ...]:
        out: list[Note] = []
        for found in self.take("notes"):
            items = found.value if isinstance(found.value, list) else [found.value]
            odd: list[Any] = []
            for i, item in enumerate(items):
                problems_before = len(self.problems)
                note = self._note(found, i, item)
                unread = len(self.problems) > problems_before
                if unread or (isinstance(item, dict) and set(map(canonical, item)) - _NOTE_KEYS):
                    odd.append(item)  # kept whole: a part could not be read, or it has other keys
                if note is not None and note.body not in {n.body for n in out}:
                    out.append(note)
            if odd:
                self.keep(found.path, odd if isinstance(found.value, list) else found.value)
        return tuple(out)

    def _note(self, found: _Found, i: int, item: Any) -> Note | None:
        where = f"{found.name}[{i}]" if isinstance(found.value, list) else found.name
        if not isinstance(item, dict):
            body = self._quiet(where, values.text, item)
            return Note(body) if body is not None else None
        by_key = {canonical(k): v for k, v in item.items()}
        text = self._quiet(f"{where}.text", values.text, _pick(by_key, NOTE_BODY))
        if text is None:
            return None
        author = _pick(by_key, NOTE_AUTHOR)
        if isinstance(author, str) and author.strip():
            if (why := unstorable(author)) is not None:
                self.problems.append(Problem(f"{where}.author", why))
            else:
                text = f"{author.strip()}: {text}"
        at = _pick(by_key, NOTE_AT)
        return Note(text, self._quiet(f"{where}.date", values.when, at) if at is not None else None)

    def _quiet(self, where: str, reader: Callable[[Any], T], raw: Any) -> T | None:
        """`reader(raw)`, or None and a problem at `where` (the caller keeps the original)."""
        try:
            return reader(raw)
        except Unreadable as exc:
            self.problems.append(Problem(where, str(exc)))
            return None

    def consent(self) -> Consent | None:
        status: str | None = None
        at = self.first("consent_at", values.when)
        method = self.first("consent_method", values.text)
        for found in self.take("consent"):
            inner = found.value if isinstance(found.value, dict) else {"status": found.value}
            by_key = {canonical(k): (k, v) for k, v in inner.items()}
            for ck, (key, value) in by_key.items():
                part = _Found("consent", (*found.path, key) if found.value is inner else found.path, value)
                if ck in CONSENT_STATUS and status is None:
                    granted = self.read(part, values.yes_no)
                    status = None if granted is None else "granted" if granted else "withdrawn"
                elif ck in CONSENT_AT and at is None:
                    at = self.read(part, values.when)
                elif ck in CONSENT_METHOD and method is None:
                    method = self.read(part, values.text)
                else:
                    self.keep(part.path, value)
        if status is None:  # a date or method of a consent the record does not give: kept
            for found in [*self.take("consent_at"), *self.take("consent_method")]:
                self.keep(found.path, found.value)
            return None
        return Consent(status, at, method or DEFAULT_CONSENT_METHOD)

    def touch(self) -> AdReferral | None:
        ad_id = self.first("ad_id", values.text)
        source = self.first("source", values.text)
        ref = self.first("ref", values.text)
        campaign = self.first("campaign", values.text)
        if ref is not None and campaign is not None:
            for found in self.take("campaign"):
                self.keep(found.path, found.value)
        ad_title = self.first("ad_title", values.text)
        if not any((ad_id, source, ref, campaign, ad_title)):
            return None
        return AdReferral(source=source, ad_id=ad_id, ref=ref or campaign, ad_title=ad_title)

    def identities(self, default_page_id: str | None) -> tuple[ChannelIdentity, ...]:
        out: list[ChannelIdentity] = []
        psid = self.first("psid", values.numeric_id)
        page_id = self.first("page_id", values.numeric_id)
        if psid is not None:
            out.append(
                ChannelIdentity(channel="messenger", page_id=page_id or default_page_id, external_id=psid)
            )
        elif page_id is not None:
            for found in self.take("page_id"):
                self.keep(found.path, found.value)
        line_id = self.first("line_id", values.text)
        if line_id is not None:
            out.append(ChannelIdentity(channel="line", external_id=line_id))
        return tuple(out)

    # --- what is not mapped ---

    def problem(self, found: _Found, reason: str) -> None:
        self.problems.append(Problem(found.name, reason))
        self.keep(found.path, found.value)

    def keep(self, path: Path, value: Any) -> None:
        """Put `value` into `extra` at `path`, creating the objects it is nested in. `extra` is
        `jsonb`: text it cannot store (U+0000, lone surrogates) is cleaned out of the copy kept
        (`storable_json`); the field's problem says so."""
        node = self.extra
        path = tuple(storable(key) for key in path)
        for key in path[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):  # the container itself was kept whole already
                return
            node = child
        node[path[-1]] = storable_json(value)

    def spill(self, key: str, more: list[str]) -> None:
        if more:
            self.extra[key] = more


_NOTE_KEYS = NOTE_BODY | NOTE_AT | NOTE_AUTHOR


def _pick(by_key: dict[str, Any], keys: set[str]) -> Any:
    """The value of the first key (in the file's order) that is one of `keys`."""
    return next((v for k, v in by_key.items() if k in keys), None)
