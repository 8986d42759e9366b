"""Canned Gemini replies by language and Google-style error bodies."""

from __future__ import annotations

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
    if _THAI.search(user_text):
        return REPLY_TH
    if _KANA.search(user_text):
        return REPLY_JA
    return REPLY_EN


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
