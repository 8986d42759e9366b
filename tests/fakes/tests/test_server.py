from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from crm_fakes import FakeServer, create_meta_app


def test_ephemeral_port_and_stop() -> None:
    server = FakeServer(create_meta_app()).start()
    try:
        assert server.port > 0
        url = server.url
        assert url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{url}/_fake/messages").json() == []
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_fake/messages")
    with pytest.raises(RuntimeError):
        _ = server.url


def test_two_servers_get_different_ports() -> None:
    with FakeServer(create_meta_app()) as a, FakeServer(create_meta_app()) as b:
        assert a.port != b.port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_url_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_fakes", "gemini", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_fake/requests").json() == []
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_fails_fast() -> None:
    with FakeServer(create_meta_app()) as first:
        clash = FakeServer(create_meta_app(), port=first.port)
        with pytest.raises(RuntimeError, match="failed to start"):
            clash.start()
