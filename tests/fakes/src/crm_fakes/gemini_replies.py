"""Canned Gemini replies by language (plain text, or JSON of the request's response schema) and
Google-style error bodies."""

from __future__ import annotations

import json
import re
from typing import Any

_THAI = re.compile(r"[\u0e00-\u0e7f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")

REPLY_TH = (
    "สวัสดีค่ะ ขอบคุณที่สนใจคอร์สของ V School ค่ะ "
    "ทีมงานยินดีให้ข้อมูลเรื่องรายละเอียดคอร์ส ราคา และตารางเรียนค่ะ "
    "สะดวกให้ติดต่อกลับทางไหนดีคะ"
)
REPLY_JA = (
    "こんにちは。V Schoolのコースにご興味をお持ちいただきありがとうございます。"
    "コース内容、料金、スケジュールについてご案内いたします。"
)
REPLY_EN = (
    "Hello! Thank you for your interest in V School courses. "
    "We are happy to share course details, prices and schedules."
)


def reply_for(user_text: str) -> str:
    """Thai script -> Thai reply, kana -> Japanese reply, anything else -> English."""
    return {"th": REPLY_TH, "ja": REPLY_JA, "en": REPLY_EN}[language_of(user_text)]


def language_of(text: str) -> str:
    if _THAI.search(text):
        return "th"
    if _KANA.search(text):
        return "ja"
    return "en"


_PASSAGE_ID = re.compile(r"\[(P\d+)\]")


def instance(schema: Any) -> Any:
    """The plainest value satisfying an OpenAPI-subset (`responseSchema`) or JSON Schema
    (`responseJsonSchema`) schema: empty strings and arrays, false, 0, the first enum value, and
    every property of an object."""
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [
                o for o in schema[key] if isinstance(o, dict) and str(o.get("type", "")).lower() != "null"
            ]
            return instance(options[0]) if options else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), None)
    kind = str(kind or "object").lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: instance(sub) for name, sub in properties.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "string":
        return ""
    return None


def structured_reply(schema: Any, user_text: str, system_text: str) -> str:
    """A JSON answer of `schema`: in the language of the customer's last turn, citing the first
    passage id (`[P1]`) of the system instruction, stating no amounts. Fields a reply schema
    commonly has (answer, language, used_passages, needs_human) get meaningful values."""
    value = instance(schema)
    if not isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    language = language_of(user_text)
    cited = _PASSAGE_ID.search(system_text)
    known: dict[str, Any] = {
        "answer": reply_for(user_text),
        "text": reply_for(user_text),
        "language": language,
        "used_passages": [cited.group(1)] if cited else [],
        "needs_human": False,
        "reason": None,
    }
    for name, default in known.items():
        if name in value:
            value[name] = default
    return json.dumps(value, ensure_ascii=False)


def wrap_text(schema: Any, text: str, system_text: str) -> str:
    """A queued plain-text reply for a JSON request: the text as the answer of a structured reply."""
    value = json.loads(structured_reply(schema, text, system_text))
    if isinstance(value, dict):
        for name in ("answer", "text"):
            if name in value:
                value[name] = text
    return json.dumps(value, ensure_ascii=False)


_RATE_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits"


def _quota_details(model: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/"
                    "generate_content_free_tier_input_token_count",
                    "quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": "250000",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more about Gemini API quotas", "url": _RATE_DOC}],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"},
    ]


_STATUS: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: (
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    ),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. "
        f"For more information on this error, head to: {_RATE_DOC}.",
    ),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def google_error(status: int, message: str | None, model: str) -> dict[str, Any]:
    """`{"error":{"code","message","status"[,"details"]}}` like Google APIs answer."""
    name, default = _STATUS.get(status, ("UNKNOWN", "Unknown error."))
    error: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if status == 429:
        error["details"] = _quota_details(model)
    if status == 400 and message and message.startswith("API key not valid"):
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ]
    return {"error": error}
