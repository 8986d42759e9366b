"""PostgreSQL and RabbitMQ instances of the drills' own, so that a drill may stop and restart them.

The machine's PostgreSQL and RabbitMQ serve other test runs and are never touched: each instance
here lives in a temporary directory, on ports of its own, and is stopped (and its files removed
with the directory) when the drills are done, even when one failed.

- `Postgres`: `initdb` + `pg_ctl` as the `postgres` user, trust authentication on 127.0.0.1.
- `RabbitNode`: Debian's `rabbitmq-server` run directly (not through the wrapper that switches
  user), as root, with its own node name, ports, data and log folders, configuration, an empty
  plugin list and an Erlang cookie of its own (its `HOME`). Several nodes with one cookie make a
  cluster (`RabbitCluster`).

Every wait is bounded; a server that does not come up or go down in time is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crm_localrun.ports import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")


def wait_for_port(port: int, timeout: float, *, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} ended while starting ({process.returncode})")
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered on port {port} within {timeout:g} s")
        time.sleep(0.1)


@dataclass
class Postgres:
    """A PostgreSQL 15 cluster of its own under `root`."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def init(self) -> Postgres:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, "postgres")
        os.chmod(self.root, 0o700)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        return self

    def start(self, timeout: float = 30.0) -> None:
        # fsync off: a drill's data need not survive the machine, only a restart of the server.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "-o",
            options,
            "start",
            timeout=timeout + 10,
        )

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """`fast`: connections are ended and the server shuts down cleanly; `immediate`: it dies."""
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            mode,
            "-w",
            "-t",
            str(int(timeout)),
            "stop",
            timeout=timeout + 10,
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop it if it runs (killing it if it will not stop), and remove its files."""
        if self.data.exists() and self.running():
            try:
                self.stop("immediate")
            except (subprocess.SubprocessError, OSError):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RabbitNode:
    """One RabbitMQ node `<name>@localhost` under `root/<name>`; `home` holds its Erlang cookie."""

    root: Path
    name: str
    home: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    @property
    def dir(self) -> Path:
        return self.root / self.name

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.home),
            # Not /etc/rabbitmq/rabbitmq-env.conf: that one names the machine's node.
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def prepare(self) -> None:
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "rabbitmq-env.conf").write_text("")
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            # A drill's disk is small and shared: never block publishers on free disk space.
            "disk_free_limit.absolute = 1MB\n"
        )

    def start(self, timeout: float = 90.0) -> None:
        """Start the node; returns once it accepts AMQP connections."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.nodename} is already running")
        log = (self.dir / "log" / "stdout.log").open("ab")
        try:
            self.process = subprocess.Popen(
                [str(RABBIT_BIN / "rabbitmq-server")],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            wait_for_port(self.port, timeout, process=self.process)
        except BaseException:
            self.kill()
            raise

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """`rabbitmqctl -n <node> ...` with this node's cookie."""
        return self._cli("rabbitmqctl", *args, timeout=timeout)

    def _cli(self, tool: str, *args: str, timeout: float) -> str:
        result = subprocess.run(
            [str(RABBIT_BIN / tool), "-q", "-n", self.nodename, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} on {self.nodename}: {result.stderr.strip()[-2000:]}")
        return result.stdout

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the node down cleanly (killed if it takes longer than `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.ctl("shutdown", timeout=timeout)
            self.process.wait(timeout)
        except (subprocess.SubprocessError, RuntimeError, OSError):
            self.kill()

    def kill(self) -> None:
        """kill -9 the node (its process group); reaped."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)


def rabbit_home(root: Path, cookie: str) -> Path:
    """A `HOME` holding an Erlang cookie shared by the nodes of one drill (and their CLI)."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".erlang.cookie"
    path.write_text(cookie)
    path.chmod(0o400)
    return home


@dataclass
class RabbitCluster:
    """Nodes that joined the first one (`rabbitmqctl join_cluster`)."""

    nodes: Sequence[RabbitNode]

    def form(self) -> None:
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.nodename)
            node.ctl("start_app")

    def leaders(self, vhost: str = "/") -> dict[str, str]:
        """The node holding each quorum queue's leader, by queue name."""
        out = self.running_node().ctl(
            "list_queues", "-p", vhost, "name", "type", "leader", "--no-table-headers"
        )
        leaders = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "quorum":
                leaders[parts[0]] = parts[2]
        return leaders

    def running_node(self) -> RabbitNode:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                return node
        raise RuntimeError("no node of the cluster is running")
