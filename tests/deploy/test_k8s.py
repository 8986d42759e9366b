"""The Kubernetes manifests (deploy/k8s) render with kustomize and keep their promises, checked
offline: every object against the Kubernetes schemas (`kubernetes-validate`), and the rules a
deployer relies on (probes, limits, a disruption budget and autoscaling for every service, only
two doors from outside, no credential committed).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31"
# Custom resources: their operators' schemas are not in kubernetes-validate; checked below.
CUSTOM = {
    "RabbitmqCluster": "rabbitmq.com/v1beta1",
    "ScaledObject": "keda.sh/v1alpha1",
    "TriggerAuthentication": "keda.sh/v1alpha1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "PodMonitor": "monitoring.coreos.com/v1",
}
SERVICES = {"gateway", "messenger", "messenger-worker", "marketing", "ai", "cache-writer"}
PUBLIC = {"gateway", "messenger"}
QUEUE_SCALED = {
    "ai": "ai.messages",
    "cache-writer": "cache-writer.customers",
    "messenger-worker": "messenger.replies",
}


def render(tmp_path: Path, overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render deploy/k8s")
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    example = tree / "overlays" / "production" / "secrets.env.example"
    (example.parent / "secrets.env").write_text(example.read_text())
    out = subprocess.run(
        [kubectl, "kustomize", str(tree / overlay)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return render(tmp_path_factory.mktemp("production"), "overlays/production")


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(deployment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from deployment["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_every_object_is_valid_kubernetes(tmp_path: Path, overlay: str) -> None:
    objects = render(tmp_path, overlay)
    assert len(objects) > 25
    for obj in objects:
        if obj["kind"] in CUSTOM:
            assert obj["apiVersion"] == CUSTOM[obj["kind"]]
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_service_has_probes_limits_and_runs_locked_down(production: list[dict[str, Any]]) -> None:
    deployments = of_kind(production, "Deployment")
    assert set(deployments) == SERVICES
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["terminationGracePeriodSeconds"] >= 30, name
        for container in containers(deployment):
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            assert container["image"].startswith("ghcr.io/vschool/crm-"), name
            secrets = [e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e]
            assert secrets == ["crm-secrets"], name


def test_every_service_has_a_disruption_budget_and_scales(production: list[dict[str, Any]]) -> None:
    deployments = of_kind(production, "Deployment")
    budgets = of_kind(production, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets.values() if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, name
    autoscalers = of_kind(production, "HorizontalPodAutoscaler").values()
    hpa = {h["spec"]["scaleTargetRef"]["name"] for h in autoscalers}
    assert hpa == PUBLIC
    scaled = {
        s["spec"]["scaleTargetRef"]["name"]: s["spec"]["triggers"][0]["metadata"]["queueName"]
        for s in of_kind(production, "ScaledObject").values()
    }
    assert scaled == QUEUE_SCALED
    assert hpa | set(scaled) | {"marketing"} == SERVICES


def test_only_the_gateway_and_the_webhook_face_outside(production: list[dict[str, Any]]) -> None:
    policies = of_kind(production, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {}
    assert "ingress" not in deny
    public = [
        p for p in policies.values() if any("from" not in rule for rule in p["spec"].get("ingress", []))
    ]
    assert [p["metadata"]["name"] for p in public] == ["public-doors"]
    opened = public[0]["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert set(opened) == PUBLIC
    ingress = next(iter(of_kind(production, "Ingress").values()))
    served = {
        (path["backend"]["service"]["name"], path["path"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert served == {("gateway", "/"), ("messenger", "/webhooks/meta")}


def container_ports(deployment: dict[str, Any]) -> dict[str, int]:
    """name -> containerPort of the service's container."""
    return {p["name"]: p["containerPort"] for p in next(containers(deployment))["ports"]}


def target_port_name(service: dict[str, Any], port: str | int, deployments: list[dict[str, Any]]) -> str:
    """The container port name a Service's port (by name or number) leads to in its pods."""
    spec = next(p for p in service["spec"]["ports"] if port in (p.get("name"), p["port"]))
    target = spec.get("targetPort", spec["port"])
    if isinstance(target, str):
        return target
    names = {n for d in deployments for n, number in container_ports(d).items() if number == target}
    assert len(names) == 1, (service["metadata"]["name"], target)
    return names.pop()


def selected(service: dict[str, Any], deployments: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    selector = service["spec"]["selector"].items()
    return [
        d for d in deployments.values() if selector <= d["spec"]["template"]["metadata"]["labels"].items()
    ]


def test_every_service_listens_on_a_public_and_an_internal_port(production: list[dict[str, Any]]) -> None:
    """ADR 17: `http` (PORT) serves the public routes and the probes; `internal` (INTERNAL_PORT)
    the internal API, /metrics and /docs, and is scraped there."""
    for name, deployment in of_kind(production, "Deployment").items():
        ports = container_ports(deployment)
        assert set(ports) == {"http", "internal"}, name
        container = next(containers(deployment))
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PORT"] == str(ports["http"]), name
        assert env["INTERNAL_PORT"] == str(ports["internal"]), name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] == "http", (name, probe)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(ports["internal"]), name
    monitor = of_kind(production, "PodMonitor")["crm"]["spec"]
    assert monitor["podMetricsEndpoints"] == [{"port": "internal", "path": "/metrics", "interval": "30s"}]
    assert set(monitor["selector"]["matchExpressions"][0]["values"]) == SERVICES


def test_no_ingress_backend_or_open_rule_reaches_an_internal_port(production: list[dict[str, Any]]) -> None:
    deployments = of_kind(production, "Deployment")
    services = of_kind(production, "Service")
    for ingress in of_kind(production, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services[backend["name"]]
                port = backend["port"].get("name", backend["port"].get("number"))
                assert target_port_name(service, port, selected(service, deployments)) == "http", backend
    for name, service in services.items():
        if name.startswith("crm-rabbitmq"):
            continue
        internal = [
            p for p in service["spec"]["ports"]
            if target_port_name(service, p["port"], selected(service, deployments)) == "internal"
        ]  # fmt: skip
        if internal:
            # Inside the cluster only, and named for what it is.
            assert service["spec"].get("type", "ClusterIP") == "ClusterIP", name
            assert not service["spec"].get("externalIPs"), name
            assert name.endswith("-internal"), name
            assert len(internal) == len(service["spec"]["ports"]), f"{name} mixes doors"
    allowed_from = [
        [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}],
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        # The cache-writer's rebuild reads the gateway's, marketing's and the messenger's exports.
        [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "cache-writer"}}}],
    ]
    reaching_internal = []
    for policy in of_kind(production, "NetworkPolicy").values():
        for rule in policy["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if "from" not in rule:
                # Open to everyone: the public port only, always named.
                assert ports == ["http"], policy["metadata"]["name"]
            elif "internal" in ports:
                assert rule["from"] in allowed_from, policy["metadata"]["name"]
                reaching_internal.append(rule["from"])
    assert sorted(map(str, reaching_internal)) == sorted(map(str, allowed_from))


def test_the_gateway_calls_the_internal_services(production: list[dict[str, Any]]) -> None:
    config = of_kind(production, "ConfigMap")
    data = next(c["data"] for name, c in config.items() if name.startswith("crm-config"))
    services = of_kind(production, "Service")
    deployments = of_kind(production, "Deployment")
    for variable in ("MESSENGER_INTERNAL_URL", "MARKETING_INTERNAL_URL", "AI_INTERNAL_URL"):
        host, port = data[variable].removeprefix("http://").split(":")
        service = services[host]
        assert target_port_name(service, int(port), selected(service, deployments)) == "internal", variable


def test_no_credential_is_committed(production: list[dict[str, Any]]) -> None:
    secret = of_kind(production, "Secret")["crm-secrets"]
    assert secret["data"], "the Secret names the environment's credentials"
    assert all(value == "" for value in secret["data"].values())
    example = K8S / "overlays" / "production" / "secrets.env.example"
    settings = [line for line in example.read_text().splitlines() if line and not line.startswith("#")]
    assert settings
    assert all(line.endswith("=") for line in settings), "the example names keys only"
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/k8s"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    assert not [path for path in tracked if path.endswith("secrets.env")]


def test_every_alert_is_explained_in_the_operations_guide(production: list[dict[str, Any]]) -> None:
    rules = of_kind(production, "PrometheusRule")["crm"]["spec"]["groups"][0]["rules"]
    guide = (ROOT / "docs" / "operations.md").read_text()
    assert rules
    assert [r["alert"] for r in rules if f"`{r['alert']}`" not in guide] == []


def test_migrations_run_as_a_job_and_rabbitmq_has_three_quorum_nodes(
    production: list[dict[str, Any]],
) -> None:
    job = of_kind(production, "Job")["crm-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["deploy/migrate.sh"]
    rabbit = of_kind(production, "RabbitmqCluster")["crm-rabbitmq"]
    assert rabbit["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
