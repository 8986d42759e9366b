"""What the gateway's clients of other services' internal APIs (`/internal/v1`) share: one pooled,
traced HTTP client with the service token, and the translation of the other service's answers
into the gateway's problems. A refusal of what staff asked for keeps its status; a failure of the
other service is a 502 when it answered, a 503 only when it could not be reached:

    2xx                            the model
    404 (when the call names one)  `not_found`                                       404
    409                            `conflict`, with the service's `detail`           409
    400, 422                       `rejected`, with the service's `detail`           422
    403 with a `detail`, when the client reads it as staff refused (`forbidden`)   403
    a status the call lists in `refused` (an upload's 413, 415)  its problem, with `detail`
    no answer (refused, timed out), or 503 (no instance ready behind its address)
                                   `unavailable`                                     503
    anything else: a 5xx, an answer the gateway cannot read, a 401/403 (a token mismatch),
    a 404 where the call names nothing (a route it does not have)
                                   `ServiceFailed`, logged                           502
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from crm_gateway.clients.errors import ServiceFailed
from crm_gateway.errors import Problem
from crm_servicekit.logging import get_logger
from crm_servicekit.tracing import instrument_httpx

log = get_logger(__name__)

INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 (a header name)
# Staff wait on every call: give up well before a browser would, and say so (503).
TIMEOUT = httpx.Timeout(10.0, connect=3.0)

M = TypeVar("M", bound=BaseModel)


class InternalApiClient:
    service: str = "service"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = instrument_httpx(
            httpx.AsyncClient(
                base_url=f"{base_url.rstrip('/')}/internal/v1",
                headers={INTERNAL_TOKEN_HEADER: token},
                timeout=timeout,
                transport=transport,
            )
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # The service's problems; each client says which of the gateway's problems they become.
    def unavailable(self) -> Problem:
        raise NotImplementedError

    def conflict(self, detail: str | None) -> Problem:
        raise NotImplementedError

    def rejected(self, detail: str | None) -> Problem:
        raise NotImplementedError

    def failed(self) -> Problem:
        return ServiceFailed(self.service)

    def forbidden(self, detail: str | None) -> Problem | None:
        """A 403 of the service as a refusal of what the staff member asked (e.g. the messenger:
        not their conversation); None keeps it a token mismatch (502)."""
        return None

    async def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        not_found: Callable[[], Problem] | None = None,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        content: AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        refused: Mapping[int, Callable[[str | None], Problem]] | None = None,
    ) -> M:
        response = await self._request(
            method,
            path,
            not_found=not_found,
            params=params,
            json=json,
            content=content,
            headers=headers,
            refused=refused,
        )
        return self._model(response.content, model)

    def _model(self, content: bytes, model: type[M]) -> M:
        """A successful answer as `model`; one the gateway cannot read is the service's failure."""
        try:
            return model.model_validate_json(content)
        except ValidationError as exc:
            log.error("internal api answer unreadable", service=self.service, model=model.__name__)
            raise self.failed() from exc

    async def _request(
        self,
        method: str,
        path: str,
        *,
        not_found: Callable[[], Problem] | None = None,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        content: AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        refused: Mapping[int, Callable[[str | None], Problem]] | None = None,
    ) -> httpx.Response:
        """The service's successful answer, or its answer as the gateway's problem (see above).
        `refused`: statuses this call passes on to staff as their refusal, with the service's
        `detail` (e.g. 413 and 415 of an upload). `content` streams a body as it arrives."""
        try:
            response = await self._http.request(
                method, path, params=params, json=json, content=content, headers=headers
            )
        except httpx.TransportError as exc:  # refused, reset, timed out
            log.warning(
                "internal api unreachable", service=self.service, method=method, error=type(exc).__name__
            )
            raise self.unavailable() from exc
        status = response.status_code
        if response.is_success:
            return response
        if refused and status in refused:
            raise refused[status](_detail(response))
        if status == 404 and not_found is not None:
            raise not_found()
        if status == 409:
            raise self.conflict(_detail(response))
        if status in (400, 422):
            raise self.rejected(_detail(response))
        if status == 403 and (refusal := self.forbidden(_detail(response))) is not None:
            raise refusal
        if status == 503:
            log.warning("internal api unavailable", service=self.service, method=method, status=status)
            raise self.unavailable()
        if status in (401, 403):
            log.error(
                "internal api refused the token; check CRM_INTERNAL_TOKEN",
                service=self.service,
                status=status,
            )
        else:
            log.warning("internal api failed", service=self.service, method=method, status=status)
        raise self.failed()


def query(**values: object) -> dict[str, str]:
    """Query parameters as our services read them: booleans lowercase, dates ISO, None left out."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _detail(response: httpx.Response) -> str | None:
    """The `detail` sentence of the service's problem answer, if it has a readable one."""
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail.strip() if isinstance(detail, str) and detail.strip() else None
