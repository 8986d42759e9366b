"""The deployment files keep their promises: docker-compose.yml, deploy/Dockerfile,
the scripts in deploy/, the RabbitMQ definitions and .env.example.

No docker engine is needed: every file is parsed as YAML, JSON or text.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
MIGRATE_SCRIPT = ROOT / "deploy" / "migrate.sh"
RABBITMQ_CONF = ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf"
RABBITMQ_DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
ENV_EXAMPLE = ROOT / ".env.example"

# compose service name -> (SERVICE build arg, default port, OTEL_SERVICE_NAME)
APP_SERVICES: dict[str, tuple[str, int, str]] = {
    "gateway": ("gateway", 8000, "crm-gateway"),
    "messenger": ("messenger", 8001, "crm-messenger"),
    "marketing": ("marketing", 8002, "crm-marketing"),
    "ai": ("ai", 8003, "crm-ai"),
    "cache-writer": ("cache_writer", 8004, "crm-cache-writer"),
}
# migrate.sh order
MIGRATION_ORDER = ["gateway", "messenger", "marketing", "ai", "cache_writer"]
PUBLISHING_SERVICES = {"gateway", "messenger"}
CACHE_SERVICES = ("gateway", "cache-writer")

# The environment contract of the services (names are exact).
ENV_CONTRACT = {
    "DATABASE_URL",
    "RABBITMQ_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_PAGE_ACCESS_TOKEN",
    "META_GRAPH_API_URL",
    "META_GRAPH_API_VERSION",
    "GEMINI_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GEMINI_MODEL",
    "CRM_CACHE_DIR",
    "PORT",
    "INTERNAL_PORT",
    "CRM_ADMIN_EMAIL",
    "CRM_ADMIN_PASSWORD",
    "CRM_JWT_SECRET",
    "CRM_ACCESS_TOKEN_TTL_SECONDS",
    "MESSENGER_INTERNAL_URL",
    "MARKETING_INTERNAL_URL",
    "AI_INTERNAL_URL",
    "GATEWAY_INTERNAL_URL",
    "CRM_INTERNAL_TOKEN",
    "META_MARKETING_ACCESS_TOKEN",
    "META_AD_ACCOUNT_IDS",
    "SYNC_SCHEDULE_ENABLED",
    "SYNC_LOOKBACK_DAYS",
    "SYNC_DAILY_HOUR",
    "LOG_LEVEL",
    "WEB_CONCURRENCY",
    "HANDOVER_IDLE_MINUTES",
    "PROFILE_REFRESH_DAYS",
    "WEBHOOK_MAX_BODY_BYTES",
    "WEBHOOK_PROCESSING",
    "CRM_ENV",
    "CRM_BIND_HOST",
}
SECRET_NAMES = {
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_PAGE_ACCESS_TOKEN",
    "META_MARKETING_ACCESS_TOKEN",
    "GEMINI_API_KEY",
    "CRM_ADMIN_PASSWORD",
    "CRM_JWT_SECRET",
    "CRM_INTERNAL_TOKEN",
}
# Variables read by third-party SDKs rather than by our own settings classes.
READ_BY_SDK = {
    "GOOGLE_GEMINI_BASE_URL": "google-genai",
}

ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


# --------------------------------------------------------------------------- helpers


@functools.cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def compose_service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    service = services[name]
    assert isinstance(service, dict)
    return service


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented_out) for every `NAME=` or `# NAME=` line."""
    found: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            commented, name, value = match.groups()
            assert name not in found, f".env.example lists {name} twice"
            found[name] = (value, commented is not None)
    return found


@functools.cache
def dockerfile_instructions() -> tuple[tuple[str, str], ...]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "deploy/Dockerfile ends with a line continuation"
    return tuple(instructions)


def dockerfile_args(instruction: str) -> list[str]:
    return [args for keyword, args in dockerfile_instructions() if keyword == instruction]


def split_instruction(args: str) -> list[str]:
    if args.startswith("["):
        parsed = json.loads(args)
        assert isinstance(parsed, list)
        return [str(item) for item in parsed]
    return shlex.split(args)


def dockerfile_copy_sources() -> list[str]:
    """Sources of COPY/ADD instructions that read the build context."""
    sources: list[str] = []
    for keyword, args in dockerfile_instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        words = split_instruction(args)
        flags = [word for word in words if word.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        paths = [word for word in words if not word.startswith("--")]
        assert len(paths) >= 2, f"{keyword} {args} needs a source and a destination"
        sources.extend(paths[:-1])
    return sources


def dockerignore_regexes() -> list[tuple[re.Pattern[str], bool]]:
    """(pattern, excludes) pairs from .dockerignore, in order (the last match wins)."""
    rules: list[tuple[re.Pattern[str], bool]] = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex += pattern[i : end + 1]
                i = end + 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        rules.append((re.compile(regex + "$"), excludes))
    return rules


def dockerignored(path: str) -> bool:
    """Docker semantics: a rule matches a path or any of its parent directories."""
    parts = Path(path.strip("/")).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for regex, excludes in dockerignore_regexes():
        if any(regex.match(candidate) for candidate in candidates):
            ignored = excludes
    return ignored


def bind_mount_sources(service: dict[str, Any]) -> list[str]:
    sources: list[str] = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/", "~")):
                sources.append(source)
        elif volume.get("type") == "bind":
            sources.append(str(volume["source"]))
    return sources


def named_volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """named volume -> container path"""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if not source.startswith((".", "/", "~")):
                mounts[source] = rest.split(":", 1)[0]
        elif volume.get("type", "volume") == "volume":
            mounts[str(volume["source"])] = str(volume["target"])
    return mounts


def host_ports(service: dict[str, Any]) -> list[str]:
    return [str(port) for port in service.get("ports") or []]


# --------------------------------------------------------------------------- compose: services


@pytest.mark.parametrize(("name", "build_arg"), [(n, v[0]) for n, v in APP_SERVICES.items()])
def test_service_is_built_from_the_shared_dockerfile(name: str, build_arg: str) -> None:
    build = compose_service(name).get("build")
    assert isinstance(build, dict), f"{name}: build must be a mapping with context/dockerfile/args"
    assert (ROOT / build.get("context", ".")).resolve() == ROOT
    assert build.get("dockerfile") == "deploy/Dockerfile"
    assert (build.get("args") or {}).get("SERVICE") == build_arg


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_has_a_healthz_healthcheck(name: str) -> None:
    healthcheck = compose_service(name).get("healthcheck")
    assert isinstance(healthcheck, dict), f"{name} has no healthcheck"
    assert not healthcheck.get("disable")
    test = healthcheck.get("test")
    text = " ".join(test) if isinstance(test, list) else str(test)
    assert "/healthz" in text
    assert "curl" not in text, "slim images have no curl"
    if isinstance(test, list) and test[1:3] == ["python", "-c"]:
        compile(test[3], f"{name} healthcheck", "exec")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_waits_for_infrastructure_and_migrations(name: str) -> None:
    depends_on = compose_service(name).get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
    conditions = {dep: (spec or {}).get("condition") for dep, spec in depends_on.items()}
    assert conditions.get("postgres") == "service_healthy"
    assert conditions.get("rabbitmq") == "service_healthy"
    assert conditions.get("migrate") == "service_completed_successfully"


@pytest.mark.parametrize(("name", "spec"), APP_SERVICES.items())
def test_service_environment_points_at_compose_services(name: str, spec: tuple[str, int, str]) -> None:
    _, port, otel_name = spec
    service = compose_service(name)
    env = service_environment(service)
    assert env.get("PORT") == str(port)
    assert env.get("OTEL_SERVICE_NAME") == otel_name
    assert env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://jaeger:4318"
    assert env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "http/protobuf"
    assert re.fullmatch(r"postgresql://[^@/]+@postgres:5432/\w+", env.get("DATABASE_URL", ""))
    assert re.fullmatch(r"amqp://[^@/]+@rabbitmq:5672/", env.get("RABBITMQ_URL", ""))
    env_files = service.get("env_file")
    assert env_files == [{"path": ".env", "required": False}], (
        f"{name}: env_file must be an optional .env so compose works without one"
    )


def test_only_gateway_and_messenger_publish_host_ports() -> None:
    publishing = {name for name in APP_SERVICES if host_ports(compose_service(name))}
    assert publishing == PUBLISHING_SERVICES
    assert not host_ports(compose_service("migrate"))
    for name in PUBLISHING_SERVICES:
        port = APP_SERVICES[name][1]
        assert any(p.endswith(f"{port}:{port}") for p in host_ports(compose_service(name)))


@pytest.mark.parametrize(("name", "spec"), APP_SERVICES.items())
def test_no_internal_port_is_published(name: str, spec: tuple[str, int, str]) -> None:
    """The internal APIs, /metrics and /docs answer on INTERNAL_PORT only (ADR 17): never published."""
    port = spec[1]
    env = service_environment(compose_service(name))
    assert env.get("INTERNAL_PORT") == str(port + 100)
    published = [p.rsplit(":", 1)[-1].split("/")[0] for p in host_ports(compose_service(name))]
    assert str(port + 100) not in published
    assert published in ([], [str(port)])


def test_the_gateway_calls_the_internal_ports() -> None:
    env = service_environment(compose_service("gateway"))
    for service, spec in APP_SERVICES.items():
        if service in ("messenger", "marketing", "ai"):
            internal_port = spec[1] + 100
            assert env[f"{service.upper()}_INTERNAL_URL"] == f"http://{service}:{internal_port}"
            assert str(internal_port) == service_environment(compose_service(service))["INTERNAL_PORT"]


def test_gateway_and_cache_writer_share_the_cache_volume() -> None:
    mounts = [named_volume_mounts(compose_service(name)) for name in CACHE_SERVICES]
    shared = set(mounts[0]).intersection(mounts[1])
    assert len(shared) == 1, "gateway and cache-writer must share exactly one named volume"
    volume = shared.pop()
    assert volume in (compose().get("volumes") or {})
    for name, mount in zip(CACHE_SERVICES, mounts, strict=True):
        env = service_environment(compose_service(name))
        assert env.get("CRM_CACHE_DIR") == mount[volume], f"{name}: CRM_CACHE_DIR != mount"


def test_common_service_block_is_an_extension_field() -> None:
    assert "x-service" in compose()
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert text.count("<<: *service") == len(APP_SERVICES)


def test_migrate_runs_the_migration_script_once() -> None:
    migrate = compose_service("migrate")
    build = migrate.get("build")
    assert isinstance(build, dict)
    assert build.get("dockerfile") == "deploy/Dockerfile"
    command = migrate.get("command")
    command_text = " ".join(command) if isinstance(command, list) else str(command)
    assert "deploy/migrate.sh" in command_text
    assert migrate.get("restart") == "no"
    depends_on = migrate.get("depends_on") or {}
    assert depends_on.get("postgres", {}).get("condition") == "service_healthy"
    # migrate also declares each service's broker topology
    assert depends_on.get("rabbitmq", {}).get("condition") == "service_healthy"


# --------------------------------------------------------------------------- compose: infrastructure


def test_infrastructure_uses_official_images() -> None:
    # Pinned by digest too: test_secrets_and_images.py.
    assert str(compose_service("postgres")["image"]).startswith("postgres:16")
    assert re.match(r"rabbitmq:3\.13(\.\d+)?-management@", str(compose_service("rabbitmq")["image"]))
    assert str(compose_service("jaeger")["image"]).startswith("jaegertracing/all-in-one")


def test_postgres_has_a_healthcheck_and_a_named_volume() -> None:
    postgres = compose_service("postgres")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    mounts = named_volume_mounts(postgres)
    assert "/var/lib/postgresql/data" in mounts.values()
    assert set(mounts) <= set(compose().get("volumes") or {})
    env = service_environment(postgres)
    assert all(env.get(key) for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"))
    db_url = service_environment(compose_service("gateway"))["DATABASE_URL"]
    expected = (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    )
    assert db_url == expected


def test_rabbitmq_healthcheck_mounts_and_ports() -> None:
    rabbitmq = compose_service("rabbitmq")
    assert rabbitmq["healthcheck"]["test"][-3:] == ["rabbitmq-diagnostics", "-q", "ping"]
    targets = {str(volume).split(":")[1] for volume in rabbitmq["volumes"] if str(volume).startswith(".")}
    assert {"/etc/rabbitmq/rabbitmq.conf", "/etc/rabbitmq/definitions.json"} <= targets
    ports = " ".join(host_ports(rabbitmq))
    assert "5672:5672" in ports
    assert "15672:15672" in ports


def test_jaeger_accepts_otlp() -> None:
    jaeger = compose_service("jaeger")
    assert str(service_environment(jaeger).get("COLLECTOR_OTLP_ENABLED")).lower() == "true"
    ports = " ".join(host_ports(jaeger))
    for port in (16686, 4317, 4318):
        assert f"{port}:{port}" in ports


def test_every_bind_mount_exists() -> None:
    for name, service in compose()["services"].items():
        for source in bind_mount_sources(service):
            assert not source.startswith(("/", "~")), f"{name}: absolute bind mount {source}"
            assert (ROOT / source).exists(), f"{name}: {source} does not exist"


# --------------------------------------------------------------------------- .env.example


def test_env_example_lists_the_whole_contract_with_comments() -> None:
    names = env_example()
    assert set(names) == ENV_CONTRACT
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = ENV_LINE.match(line.strip())
        if match:
            previous = lines[index - 1].strip() if index else ""
            assert previous.startswith("#"), f"{match.group(2)} needs a one-line comment above it"
            assert not ENV_LINE.match(previous), f"{match.group(2)} needs its own comment"


def test_env_example_holds_no_real_secrets() -> None:
    for name, (value, _) in env_example().items():
        if name in SECRET_NAMES and value:
            assert re.search(r"change-me|replace", value), f"{name} looks like a real secret"
    assert env_example()["GEMINI_API_KEY"] == ("", False), "empty key = offline responder"


def test_services_receive_only_documented_variables() -> None:
    documented = set(env_example())
    for name in [*APP_SERVICES, "migrate"]:
        received = set(service_environment(compose_service(name)))
        assert received <= documented, f"{name} gets undocumented {received - documented}"


def test_documented_variables_are_read_by_the_code() -> None:
    configs = {name: sorted((ROOT / "services" / name).glob("src/**/config.py")) for name in APP_SERVICES}
    missing = [name for name, found in configs.items() if not found]
    if missing:
        pytest.skip(f"services without a config.py yet: {', '.join(missing)}")
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for pattern in ("libs/*/src/**/*.py", "services/*/src/**/*.py")
        for path in ROOT.glob(pattern)
    )
    prefixes = set(re.findall(r"env_prefix\s*=\s*[\"']([A-Za-z0-9_]+)[\"']", sources))

    def field_declared(field: str) -> bool:
        return re.search(rf"^\s+{re.escape(field)}\s*:", sources, re.MULTILINE) is not None

    unread = []
    for name in env_example():
        if name in READ_BY_SDK or re.search(rf"\b{name}\b", sources):
            continue
        if field_declared(name.lower()):
            continue
        if any(
            name.upper().startswith(prefix.upper()) and field_declared(name[len(prefix) :].lower())
            for prefix in prefixes
        ):
            continue
        unread.append(name)
    assert not unread, f".env.example documents variables no code reads: {unread}"


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    froms = [split_instruction(args)[0] for args in dockerfile_args("FROM")]
    python_stages = [image for image in froms if image.startswith("python:")]
    assert len(python_stages) >= 2, "builder and runtime stages"
    assert all(image.startswith("python:3.11") for image in python_stages)
    assert all(re.match(r"python:3\.11(\.\d+)?-slim-bookworm@", image) for image in python_stages)
    uv_sources = [a for a in dockerfile_args("FROM") + dockerfile_args("COPY") if "astral-sh/uv" in a]
    assert uv_sources, "uv comes from the official ghcr.io/astral-sh/uv image"
    assert any(a.startswith("ghcr.io/astral-sh/uv") for a in uv_sources) or any(
        "--from=ghcr.io/astral-sh/uv" in a for a in uv_sources
    )


def test_dockerfile_syncs_the_locked_workspace_with_a_cache() -> None:
    runs = dockerfile_args("RUN")
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    for run in syncs:
        assert "--frozen" in run
        assert "--no-dev" in run
        # The production packages only: never crm-fakes or crm-localrun (test_secrets_and_images.py).
        assert "--all-packages" not in run
        assert "${PRODUCTION_PACKAGES}" in run
        assert "--mount=type=cache" in run
    # uv.lock is copied before the first sync (layer caching), sources after it.
    order = [
        (keyword, args) for keyword, args in dockerfile_instructions() if keyword in {"COPY", "RUN", "FROM"}
    ]
    first_sync = next(i for i, (k, a) in enumerate(order) if k == "RUN" and "uv sync" in a)
    before = " ".join(a for k, a in order[:first_sync] if k == "COPY")
    assert "uv.lock" in before
    assert "/src" not in before, "sources must be copied after the dependency layer"


def test_dockerfile_runtime_stage() -> None:
    users = dockerfile_args("USER")
    assert users, "the image must not run as root"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}
    env = " ".join(dockerfile_args("ENV"))
    assert "/app/.venv/bin" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert any(args.split("=")[0] == "SERVICE" for args in dockerfile_args("ARG"))
    healthchecks = dockerfile_args("HEALTHCHECK")
    assert len(healthchecks) == 1
    assert "urllib" in healthchecks[0]
    assert "/healthz" in healthchecks[0]
    assert "PORT" in healthchecks[0]
    command = healthchecks[0].split("CMD", 1)[1].strip()
    if command.startswith("["):
        words = json.loads(command)
        if words[:2] == ["python", "-c"]:
            compile(words[2], "HEALTHCHECK", "exec")
    starts = " ".join(dockerfile_args("ENTRYPOINT") + dockerfile_args("CMD"))
    if "entrypoint.sh" in starts:
        assert 'python -m "crm_${SERVICE}"' in ENTRYPOINT.read_text(encoding="utf-8")
    else:
        assert "crm_${SERVICE}" in starts


def test_dockerfile_copies_only_existing_unignored_paths() -> None:
    sources = dockerfile_copy_sources()
    assert sources
    for source in sources:
        assert not Path(source).is_absolute()
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    for member in ("contracts", "libs/servicekit", "tests/fakes", "services/gateway"):
        assert not dockerignored(f"{member}/pyproject.toml")
    # The fakes and the local runner: their pyproject.toml only (uv reads the workspace).
    assert dockerignored("tests/fakes/src/crm_fakes/__init__.py")
    assert dockerignored("deploy/localrun/src/crm_localrun/__main__.py")
    assert not dockerignored("deploy/localrun/pyproject.toml")
    assert dockerignored(".env")
    assert dockerignored(".venv/bin/python")
    assert dockerignored("services/gateway/tests/test_x.py")


def test_dockerfile_copies_every_workspace_member() -> None:
    copied = " ".join(dockerfile_copy_sources())
    for member in sorted(ROOT.glob("services/*/pyproject.toml")):
        assert str(member.relative_to(ROOT)) in copied, f"{member} is not copied"
    for name in ("contracts", "libs/servicekit", "tests/fakes", "deploy/localrun"):
        assert f"{name}/pyproject.toml" in copied
    for name in ("contracts", "libs/servicekit"):
        assert f"{name}/src" in copied
    for name in ("tests/fakes", "deploy/localrun"):
        assert f"{name}/src" not in copied, f"{name} is not production code"
    assert "pyproject.toml" in copied.split()
    assert "uv.lock" in copied.split()


# --------------------------------------------------------------------------- scripts


def test_migrate_script_migrates_every_service_in_order_and_fails_fast() -> None:
    text = MIGRATE_SCRIPT.read_text(encoding="utf-8")
    assert text.startswith("#!")
    assert "set -euo pipefail" in text
    positions = [re.search(rf"\b{service}\b", text) for service in MIGRATION_ORDER]
    assert all(positions), "migrate.sh must name all five services"
    starts = [match.start() for match in positions if match]
    assert starts == sorted(starts), f"migrate order must be {MIGRATION_ORDER}"
    assert re.search(r"-m \"?crm_\$\{?service\}?\"? migrate", text)
    assert os.access(MIGRATE_SCRIPT, os.X_OK)


def test_entrypoint_knows_every_service() -> None:
    text = ENTRYPOINT.read_text(encoding="utf-8")
    assert text.startswith("#!")
    for build_arg, port, _ in APP_SERVICES.values():
        assert re.search(rf"^\s*{build_arg}\)\s*default_port={port}\b", text, re.MULTILINE)
    assert os.access(ENTRYPOINT, os.X_OK)


# --------------------------------------------------------------------------- RabbitMQ


@functools.cache
def definitions() -> dict[str, Any]:
    data = json.loads(RABBITMQ_DEFINITIONS.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def rabbitmq_conf() -> dict[str, str]:
    settings: dict[str, str] = {}
    for raw in RABBITMQ_CONF.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def test_definitions_declare_the_crm_events_topic_exchange() -> None:
    exchanges = {(x["vhost"], x["name"]): x for x in definitions().get("exchanges", [])}
    exchange = exchanges.get(("/", "crm.events"))
    assert exchange is not None
    assert exchange["type"] == "topic"
    assert exchange["durable"] is True
    assert exchange.get("auto_delete", False) is False


def test_definitions_quorum_policy() -> None:
    policies = {p["name"]: p for p in definitions().get("policies", [])}
    policy = policies["crm-quorum-defaults"]
    assert policy["vhost"] == "/"
    assert policy["definition"] == {"delivery-limit": 20}
    assert policy.get("apply-to", "all") in {"queues", "quorum_queues"}
    pattern = re.compile(policy["pattern"])
    for queue in ("crm.dead-letters", "gateway.events", "cache-writer.snapshots", "ai.replies"):
        assert pattern.search(queue), queue
    # Parked queues have no dead-letter route and `crm_servicekit.parking list` peeks them
    # with requeue: a delivery limit there would drop parked messages silently.
    for queue in ("amq.gen-123", "other.queue", "aix.events", "messenger.replies.parked"):
        assert not pattern.search(queue), queue


def test_definitions_keep_the_broker_usable() -> None:
    # With definitions configured RabbitMQ does not seed its default vhost and user,
    # so the file must bring vhost "/" and, if it defines users, the guest account
    # the services connect with; never a clear-text password.
    vhosts = {v["name"]: v for v in definitions().get("vhosts", [])}
    assert "/" in vhosts
    users = definitions().get("users", [])
    for user in users:
        assert "password" not in user, "no clear-text passwords in definitions.json"
    if users:
        permissions = {(p["user"], p["vhost"]) for p in definitions().get("permissions", [])}
        assert ("guest", "/") in permissions


def test_rabbitmq_conf_loads_the_mounted_definitions() -> None:
    settings = rabbitmq_conf()
    mounts = dict(
        str(volume).split(":")[:2]
        for volume in compose_service("rabbitmq")["volumes"]
        if str(volume).startswith(".")
    )
    assert mounts["./deploy/rabbitmq/definitions.json"] == settings["load_definitions"]
    assert settings["consumer_timeout"] == str(30 * 60 * 1000)
