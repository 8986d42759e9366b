from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from crm_fakes import (
    FakeServer,
    GeminiState,
    MetaState,
    OtlpState,
    create_gemini_app,
    create_meta_app,
    create_otlp_app,
)

S = TypeVar("S")


@dataclass(frozen=True)
class Fake(Generic[S]):
    url: str
    state: S


@pytest.fixture(scope="session")
def _meta_server() -> Iterator[Fake[MetaState]]:
    state = MetaState(page_id="111222333")
    with FakeServer(create_meta_app(state)) as server:
        yield Fake(server.url, state)


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[Fake[GeminiState]]:
    state = GeminiState()
    with FakeServer(create_gemini_app(state)) as server:
        yield Fake(server.url, state)


@pytest.fixture(scope="session")
def _otlp_server() -> Iterator[Fake[OtlpState]]:
    state = OtlpState()
    with FakeServer(create_otlp_app(state)) as server:
        yield Fake(server.url, state)


@pytest.fixture
def meta(_meta_server: Fake[MetaState]) -> Fake[MetaState]:
    _meta_server.state.reset()
    return _meta_server


@pytest.fixture
def gemini(_gemini_server: Fake[GeminiState]) -> Fake[GeminiState]:
    _gemini_server.state.reset()
    return _gemini_server


@pytest.fixture
def otlp(_otlp_server: Fake[OtlpState]) -> Fake[OtlpState]:
    _otlp_server.state.reset()
    return _otlp_server
