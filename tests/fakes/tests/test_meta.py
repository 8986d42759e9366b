from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from crm_fakes import MetaState

from .conftest import Fake

PSID = "6780462125377510"
TOKEN = "page-token"
TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def text_body(text: str) -> dict[str, Any]:
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": text}}


async def send(url: str, body: Any, *, token: str | None = TOKEN, version: str = "v23.0") -> httpx.Response:
    params = {"access_token": token} if token else {}
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{url}/{version}/me/messages", params=params, json=body, headers={"traceparent": TP}
        )


async def test_send_text_is_accepted_and_listed(meta: Fake[MetaState]) -> None:
    body = text_body("สวัสดีค่ะ")
    body["message"]["quick_replies"] = [{"content_type": "text", "title": "Yes", "payload": "Y"}]
    r = await send(meta.url, body)
    assert r.status_code == 200
    out = r.json()
    assert out["recipient_id"] == PSID
    assert out["message_id"].startswith("m_")
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{meta.url}/_fake/messages")).json()
    assert len(listed) == 1
    assert listed[0]["body"] == body
    assert listed[0]["message_id"] == out["message_id"]
    assert listed[0]["traceparent"] == TP
    assert listed[0]["access_token"] == "page-token"
    assert meta.state.texts() == ["สวัสดีค่ะ"]


async def test_bearer_token_page_id_path_and_sender_action(meta: Fake[MetaState]) -> None:
    body = {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{meta.url}/v21.0/111222333/messages",
            json=body,
            headers={"Authorization": "Bearer tok"},
        )
    assert r.status_code == 200
    assert r.json() == {"recipient_id": PSID}
    (sent,) = meta.state.messages()
    assert sent.sender_action == "typing_on"
    assert sent.message_id is None


async def test_fail_next_613_then_success(meta: Fake[MetaState]) -> None:
    meta.state.fail_next(613)
    first = await send(meta.url, text_body("a"))
    second = await send(meta.url, text_body("a"))
    assert first.status_code == 400
    error = first.json()["error"]
    assert error["code"] == 613
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("(#613)")
    assert error["fbtrace_id"]
    assert second.status_code == 200
    assert len(meta.state.messages()) == 1
    (attempt,) = meta.state.attempts()
    assert attempt.error["code"] == 613


async def test_fail_551_with_subcode_via_control_api(meta: Fake[MetaState]) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{meta.url}/_fake/fail", json={"code": 551, "subcode": 1545041, "times": 2})
        assert r.status_code == 200
    results = [await send(meta.url, text_body("a")) for _ in range(3)]
    assert [r.status_code for r in results] == [400, 400, 200]
    error = results[0].json()["error"]
    assert (error["code"], error["error_subcode"]) == (551, 1545041)
    assert error["message"] == "(#551) This person isn't available right now."


async def test_transient_error_flag(meta: Fake[MetaState]) -> None:
    meta.state.fail_next(2, http_status=500)
    r = await send(meta.url, text_body("a"))
    assert r.status_code == 500
    assert r.json()["error"]["is_transient"] is True


async def test_missing_token_is_190(meta: Fake[MetaState]) -> None:
    r = await send(meta.url, text_body("a"), token=None)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 190
    assert r.json()["error"]["type"] == "OAuthException"
    assert meta.state.messages() == []
    async with httpx.AsyncClient() as http:
        attempts = (await http.get(f"{meta.url}/_fake/attempts")).json()
    assert attempts[0]["error"]["code"] == 190


@pytest.mark.parametrize(
    "body",
    [
        text_body("x" * 2001),
        {"messaging_type": "RESPONSE", "message": {"text": "no recipient"}},
        {"recipient": {"id": PSID}, "message": {"text": "no messaging_type"}},
        {"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "message": {"text": "t"}},
        {"recipient": {"id": PSID}, "sender_action": "dance"},
    ],
)
async def test_invalid_bodies_are_code_100(meta: Fake[MetaState], body: dict[str, Any]) -> None:
    r = await send(meta.url, body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 100
    assert meta.state.messages() == []


async def test_text_of_exactly_2000_chars_is_fine(meta: Fake[MetaState]) -> None:
    r = await send(meta.url, text_body("ก" * 2000))
    assert r.status_code == 200


async def test_usage_headers_are_json_and_climb(
    meta: Fake[MetaState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meta.state, "usage_per_call", 1.0)  # a page near its limit: a point per call
    counts = []
    for _ in range(3):
        r = await send(meta.url, text_body("a"))
        app_usage = json.loads(r.headers["x-app-usage"])
        buc = json.loads(r.headers["x-business-use-case-usage"])
        assert set(app_usage) == {"call_count", "total_cputime", "total_time"}
        assert buc["111222333"][0]["call_count"] == app_usage["call_count"]
        counts.append(app_usage["call_count"])
    assert counts[0] < counts[1] < counts[2]


async def test_usage_recovers_as_the_window_rolls(
    meta: Fake[MetaState], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meta.state, "usage_per_call", 50.0)
    monkeypatch.setattr(meta.state, "usage_recovery_per_second", 1000.0)
    first = json.loads((await send(meta.url, text_body("a"))).headers["x-app-usage"])["call_count"]
    await asyncio.sleep(0.1)  # 100 points recovered: back to the one call's 50
    again = json.loads((await send(meta.url, text_body("a"))).headers["x-app-usage"])["call_count"]
    assert (first, again) == (50, 50)


async def test_profile_is_deterministic(meta: Fake[MetaState]) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"{meta.url}/v23.0/{PSID}",
            params={"fields": "first_name,last_name,profile_pic", "access_token": "t"},
        )
        again = await http.get(
            f"{meta.url}/v23.0/{PSID}",
            params={"fields": "first_name,last_name,profile_pic", "access_token": "t"},
        )
    assert r.status_code == 200
    assert r.json() == again.json()
    assert r.json()["first_name"] == "Customer"
    assert r.json()["last_name"] == "7510"
    assert r.json()["id"] == PSID
    assert r.json()["profile_pic"].startswith("https://")


async def test_configured_token_rejects_others() -> None:
    from crm_fakes import FakeServer, create_meta_app

    state = MetaState(access_token="right")
    with FakeServer(create_meta_app(state)) as fake:
        assert (await send(fake.url, text_body("a"), token="wrong")).status_code == 400
        assert (await send(fake.url, text_body("a"), token="right")).status_code == 200


async def test_reset_clears_records_and_failures(meta: Fake[MetaState]) -> None:
    await send(meta.url, text_body("a"))
    meta.state.fail_next(4)
    async with httpx.AsyncClient() as http:
        await http.post(f"{meta.url}/_fake/reset")
    assert meta.state.messages() == []
    assert (await send(meta.url, text_body("a"))).status_code == 200
