"""What PostgreSQL can store: the rule every service checks its input with."""

from __future__ import annotations

from crm_servicekit.storable import storable, storable_json, unstorable, unstorable_in

NUL = "contains U+0000 (NUL), which cannot be stored"


def test_nul_and_lone_surrogates_are_named_by_code_point_never_by_the_text() -> None:
    assert unstorable("สวัสดี 🍣 \u202eRTL\u200f น้ำ\u0e49\u0e49") is None
    assert unstorable("secret\x00") == NUL
    assert (
        unstorable("secret \udc80") == "contains U+DC80 (a lone surrogate, not UTF-8), which cannot be stored"
    )
    assert "secret" not in (unstorable("secret \ud800") or "")


def test_cleaning_removes_nul_and_replaces_lone_surrogates_keys_included() -> None:
    assert storable("a\x00b \ud83c c 🍣") == "ab \ufffd c 🍣"
    cleaned = storable_json({"k\x00": ["x\x00", 1, None, {"\ud800": "ok"}]})
    assert cleaned == {"k": ["x", 1, None, {"\ufffd": "ok"}]}
    storable(str(cleaned)).encode()  # UTF-8 now


def test_every_place_that_cannot_be_stored_is_found_with_its_location() -> None:
    body = {"name": "ok", "tags": ["a", "b\x00"], "extra": {"x\x00": "\ud800"}}

    assert list(unstorable_in(body)) == [
        (("tags", 1), NUL),
        (("extra", "x"), f"the name {NUL}"),
        (("extra", "x"), "contains U+D800 (a lone surrogate, not UTF-8), which cannot be stored"),
    ]
