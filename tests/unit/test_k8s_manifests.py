"""The Kubernetes deployment (deploy/k8s, issue #23 items 1 and 4), checked without a cluster:
each overlay rendered by `kubectl kustomize` (offline), every built-in kind validated against
the Kubernetes schemas that kubernetes-validate bundles (K8S_VERSION, strict: no unknown field),
every operator's resource against its CRD's openAPIV3Schema vendored in deploy/k8s/crds/
(copied from the operators' released CRDs: deploy/k8s/crds/vendor.py says which), the security
properties asserted for every workload by name, and checkov run on the rendered manifests
(from .venv-checkov: scripts/checkov-venv.sh; it cannot share .venv, see pyproject.toml).

Also the image (deploy/Dockerfile): non-root, with a HEALTHCHECK that asks the process it runs
(services/cli/healthcheck.py, exercised here against a real HTTP server on loopback).

What needs a cluster is not checked: that the operators accept these resources at admission
(webhooks), that pods start, that NetworkPolicies are enforced by the cluster's network plugin.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.cli import healthcheck
from shared.infra.config import DEFAULT_PORTS, SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
K8S_VERSION = "1.33.0"  # the oldest Kubernetes these manifests are meant for
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
PLATFORM = (*SERVICES, "relay", "console", "proxy")
# checkov's checks that do not apply, and why (every other check must pass):
CHECKOV_SKIPPED = {
    # The services read their credentials from the environment (shared/infra/config.py, as in
    # compose); each one still comes from a Secret by reference, never a literal.
    "CKV_K8S_35": "secrets as environment variables",
    # Tags here are placeholders an overlay replaces (`images:`); pinning a digest is the
    # deployer's, in their overlay (deploy/README.md, "Install").
    "CKV_K8S_43": "image digests",
}


def kubectl() -> str:
    path = shutil.which("kubectl")
    assert path, "kubectl is needed to render the overlays (Debian: apt-get install kubernetes-client)"
    return path


def render(overlay: str) -> list[dict]:
    out = subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: render(name) for name in OVERLAYS}


def named(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def workloads(docs: list[dict]) -> Iterator[tuple[str, dict]]:
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def strict(schema):
    """The schema as the API server applies it with strict field validation (kubectl's
    default): a field no `properties` names is an error, unless the schema keeps unknown fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def crd_schemas() -> dict[tuple[str, str], dict]:
    schemas = {}
    for path in (K8S / "crds").glob("*.json"):
        crd = json.loads(path.read_text())
        schema = strict(crd["schema"])
        # every object has these whether or not its CRD lists them
        schema["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                "metadata": {"type": "object"}, **schema["properties"]}
        schemas[(crd["apiVersion"], crd["kind"])] = schema
    return schemas


def is_builtin(doc: dict) -> bool:
    group = doc["apiVersion"].rpartition("/")[0]
    return group in {"", "apps", "batch", "policy", "autoscaling"} or group.endswith(".k8s.io")


# ------------------------------------------------------------------ rendering and schemas


def test_generated_files_are_what_generate_py_writes():
    sys.path.insert(0, str(K8S))
    try:
        import generate  # deploy/k8s/generate.py
    finally:
        sys.path.remove(str(K8S))
    for path, text in generate.rendered().items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run python deploy/k8s/generate.py"


def test_every_overlay_renders_every_part(rendered):
    for name, docs in rendered.items():
        kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
        for expected in [("Cluster", "caseplatform-db"), ("RabbitmqCluster", "caseplatform-mq"),
                         ("Keycloak", "caseplatform-id"), ("KeycloakRealmImport", "caseplatform"),
                         ("StatefulSet", "seaweedfs-master"), ("StatefulSet", "seaweedfs-volume"),
                         ("StatefulSet", "seaweedfs-filer"), ("Ingress", "caseplatform"),
                         *(("Deployment", p) for p in PLATFORM)]:
            assert expected in kinds, f"{name}: {expected} missing"
        assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"caseplatform"}


def test_builtin_kinds_validate_against_the_kubernetes_schemas(rendered):
    for name, docs in rendered.items():
        for doc in filter(is_builtin, docs):
            try:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_operator_resources_validate_against_their_crds(rendered):
    schemas = crd_schemas()
    for name, docs in rendered.items():
        for doc in docs:
            if is_builtin(doc):
                continue
            key = (doc["apiVersion"], doc["kind"])
            assert key in schemas, f"{name}: no CRD schema vendored for {key}"
            errors = sorted(jsonschema.Draft7Validator(schemas[key]).iter_errors(doc), key=str)
            assert not errors, f"{name}: {doc['kind']}/{doc['metadata']['name']}: " + "; ".join(
                f"{e.message} at {list(e.path)}" for e in errors[:5])


def test_the_restore_manifest_validates_and_recovers_from_the_archive_the_cluster_writes(rendered):
    restore = yaml.safe_load((K8S / "restore" / "cluster-restore.yaml").read_text())
    schema = crd_schemas()[(restore["apiVersion"], restore["kind"])]
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(restore))
    recovery = restore["spec"]["bootstrap"]["recovery"]
    assert "targetTime" in recovery["recoveryTarget"]
    origin = next(c for c in restore["spec"]["externalClusters"] if c["name"] == recovery["source"])
    archiver = next(p for p in named(rendered["production"], "Cluster")["caseplatform-db"]["spec"]["plugins"]
                    if p.get("isWALArchiver"))
    assert origin["plugin"]["name"] == archiver["name"]
    assert origin["plugin"]["parameters"] == {"barmanObjectName": archiver["parameters"]["barmanObjectName"],
                                              "serverName": "caseplatform-db"}


def test_a_crd_schema_refuses_a_field_the_operator_does_not_know():
    # The vendored schemas are not vacuous: a wrong type or a misspelt field is refused.
    schemas = crd_schemas()
    for api, kind, spec in [("postgresql.cnpg.io/v1", "Cluster", {"instances": "three"}),
                            ("rabbitmq.com/v1beta1", "RabbitmqCluster", {"replica": 3}),
                            ("k8s.keycloak.org/v2alpha1", "Keycloak", {"hostname": {"hostnme": "x"}})]:
        wrong = {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
        assert list(jsonschema.Draft7Validator(schemas[(api, kind)]).iter_errors(wrong)), kind


# ------------------------------------------------------------------ security of every workload


def test_every_workload_runs_non_root_read_only_without_capabilities(rendered):
    for name, docs in rendered.items():
        for workload, template in workloads(docs):
            pod = template["spec"]
            assert pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: {workload}"
            assert pod["securityContext"].get("seccompProfile") == {"type": "RuntimeDefault"}, f"{workload}"
            assert pod.get("automountServiceAccountToken") is False, f"{workload} mounts an API token"
            for c in pod["containers"] + pod.get("initContainers", []):
                sc, who = c.get("securityContext", {}), f"{name}: {workload} container {c['name']}"
                assert sc.get("runAsNonRoot") is True, who
                assert sc.get("allowPrivilegeEscalation") is False, who
                assert sc.get("readOnlyRootFilesystem") is True, who
                assert sc.get("capabilities", {}).get("drop") == ["ALL"], who
                assert not sc.get("capabilities", {}).get("add"), who
                assert sc.get("seccompProfile") == {"type": "RuntimeDefault"}, who
                assert not sc.get("privileged"), who
                resources = c.get("resources", {})
                for part in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{who}: {part}"


def test_every_long_running_workload_has_probes_a_budget_and_a_network_policy(rendered):
    for name, docs in rendered.items():
        budgets = [d["spec"]["selector"]["matchLabels"] for d in docs if d["kind"] == "PodDisruptionBudget"]
        policies = [d["spec"]["podSelector"].get("matchLabels", {}) for d in docs if d["kind"] == "NetworkPolicy"]
        for doc in docs:
            if doc["kind"] not in {"Deployment", "StatefulSet"}:
                continue
            who = f"{name}: {doc['kind']}/{doc['metadata']['name']}"
            labels = doc["spec"]["template"]["metadata"]["labels"]
            for c in doc["spec"]["template"]["spec"]["containers"]:
                assert "readinessProbe" in c and "livenessProbe" in c, who
            assert any(b.items() <= labels.items() for b in budgets), f"{who} has no PodDisruptionBudget"
            assert any(p and p.items() <= labels.items() for p in policies), f"{who} has no NetworkPolicy of its own"
        assert {} in policies, f"{name}: no default deny"


def test_platform_probes_ask_each_process_its_health(rendered):
    for docs in rendered.values():
        deployments = named(docs, "Deployment")
        for service in (*SERVICES, "relay"):
            c = deployments[service]["spec"]["template"]["spec"]["containers"][0]
            port = DEFAULT_PORTS.get(service, 8107)
            assert c["readinessProbe"]["httpGet"] == {"path": f"/{service}/health/ready", "port": port}
            assert c["livenessProbe"]["httpGet"] == {"path": f"/{service}/health/live", "port": port}
            assert c["command"] == ["caseplatform", "serve", service]


def test_services_are_reached_only_from_the_proxy_and_the_console(rendered):
    for docs in rendered.values():
        policies = named(docs, "NetworkPolicy")
        deployments = named(docs, "Deployment")
        clients = {n for n, d in deployments.items()
                   if d["spec"]["template"]["metadata"]["labels"].get("caseplatform.io/api-client") == "true"}
        assert clients == {"proxy", "console"}
        for service in SERVICES:
            rules = policies[f"{service}-ingress"]["spec"]["ingress"]
            assert rules == [{"from": [{"podSelector": {"matchLabels": {"caseplatform.io/api-client": "true"}}}],
                              "ports": [{"port": DEFAULT_PORTS[service], "protocol": "TCP"}]}]
        # the databases: the services, the relay and the console (db-client), Keycloak, the instances,
        # the operator
        db_clients = {n for n, d in deployments.items()
                      if d["spec"]["template"]["metadata"]["labels"].get("caseplatform.io/db-client") == "true"}
        assert db_clients == {*SERVICES, "relay", "console"}  # the console: its sessions' database only
        db_sources = policies["postgres-ingress"]["spec"]["ingress"][0]["from"]
        assert {"podSelector": {"matchLabels": {"caseplatform.io/db-client": "true"}}} in db_sources
        assert all("namespaceSelector" not in s for s in db_sources)


SECRETISH = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|SESSION_KEY")


def test_secrets_are_referenced_never_written(rendered):
    for name, docs in rendered.items():
        assert not [d for d in docs if d["kind"] == "Secret"], f"{name}: a Secret in the manifests"
        for workload, template in workloads(docs):
            for c in template["spec"]["containers"]:
                for var in c.get("env", []):
                    if SECRETISH.search(var["name"]):
                        assert "secretKeyRef" in var.get("valueFrom", {}), f"{name}: {workload} {var['name']}"
                    value = var.get("value", "")
                    # a URL with a password takes it from a variable set from a Secret
                    for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                        assert re.fullmatch(r"\$\([A-Z_]+\)", password), f"{name}: {workload} {var['name']}"


def test_the_checkpoint_signing_key_is_mounted_in_the_audit_service_only(rendered):
    for name, docs in rendered.items():
        holders = [w for w, t in workloads(docs)
                   if any(v.get("secret", {}).get("secretName") == "caseplatform-checkpoint-key"
                          for v in t["spec"].get("volumes", []))]
        assert holders == ["Deployment/audit"], name
        audit = named(docs, "Deployment")["audit"]["spec"]["template"]["spec"]["containers"][0]
        env = {v["name"]: v.get("value") for v in audit["env"]}
        mount = next(m for m in audit["volumeMounts"] if m["name"] == "checkpoint-key")
        assert mount["readOnly"] is True
        assert env["CHECKPOINT_KEY_PATH"].startswith(mount["mountPath"] + "/")


def test_the_environment_mirrors_compose(rendered):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    # compose puts the broker password inside AMQP_URI; here it is a variable of its own
    # (AMQP_PASSWORD, DB_PASSWORD) that the URLs take by $(...).
    own = {"AMQP_PASSWORD", "DB_PASSWORD"}
    for docs in rendered.values():
        deployments = named(docs, "Deployment")
        for name in (*SERVICES, "relay", "console"):
            k8s_env = {v["name"] for v in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert set(compose[name]["environment"]) == k8s_env - own, name


def test_production_runs_three_of_each_stateful_part_and_backs_up_the_ledger(rendered):
    docs = rendered["production"]
    cluster = named(docs, "Cluster")["caseplatform-db"]["spec"]
    assert cluster["instances"] == 3
    assert named(docs, "RabbitmqCluster")["caseplatform-mq"]["spec"]["replicas"] == 3
    assert named(docs, "StatefulSet")["seaweedfs-master"]["spec"]["replicas"] == 3
    assert named(docs, "StatefulSet")["seaweedfs-volume"]["spec"]["replicas"] == 3
    # WAL archived continuously (point-in-time recovery) and a base backup on a schedule
    archiver = [p for p in cluster["plugins"] if p.get("isWALArchiver")]
    assert archiver and archiver[0]["parameters"]["barmanObjectName"] in named(docs, "ObjectStore")
    backup = next(iter(named(docs, "ScheduledBackup").values()))["spec"]
    assert backup["cluster"]["name"] == "caseplatform-db" and backup["method"] == "plugin"
    databases = {d["spec"]["name"] for d in named(docs, "Database").values()}
    databases.add(cluster["bootstrap"]["initdb"]["database"])
    assert databases == {"caseplatform", "keycloak", "caseplatform_console", "caseplatform_personal",
                         *(f"caseplatform_{s}" for s in SERVICES)}
    # the console's sessions are shared (a table, sealed): two replicas serve the same people
    assert named(docs, "Deployment")["console"]["spec"]["replicas"] == 2
    # two processes of every service and of the relay, proven side by side by tests/faults/test_replicas.py
    for service in (*SERVICES, "relay"):
        assert named(docs, "Deployment")[service]["spec"]["replicas"] == 2


def test_the_realm_and_the_broker_definitions_are_the_compose_files(rendered):
    realm = json.loads((ROOT / "deploy/keycloak/caseplatform-realm.json").read_text())
    definitions = (ROOT / "deploy/rabbitmq/definitions.json").read_text()
    for docs in rendered.values():
        assert named(docs, "KeycloakRealmImport")["caseplatform"]["spec"]["realm"] == realm
        assert named(docs, "ConfigMap")["rabbitmq-definitions"]["data"]["definitions.json"] == definitions


def test_checkov_finds_nothing_but_the_skipped_checks(tmp_path, rendered):
    checkov = Path(os.environ.get("CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))
    if not checkov.exists():
        message = f"no checkov at {checkov}: run scripts/checkov-venv.sh (it needs a venv of its own)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it (.ci/run): its absence there is a failure
        pytest.skip(message)
    for name, docs in rendered.items():
        manifest = tmp_path / f"{name}.yaml"
        manifest.write_text(yaml.safe_dump_all(docs))
        run = subprocess.run([str(checkov), "-f", str(manifest), "--framework", "kubernetes", "--quiet", "--compact",
                              "--skip-download", "--skip-check", ",".join(CHECKOV_SKIPPED), "-o", "json"],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
        report = json.loads(run.stdout)
        failed = [f"{f['check_id']} {f['resource']}" for r in (report if isinstance(report, list) else [report])
                  for f in r["results"]["failed_checks"]]
        assert not failed, f"{name}: {failed}"
        assert report["summary"]["passed"] > 500  # it did check the workloads


# ------------------------------------------------------------------ the image


def dockerfile_instructions() -> list[str]:
    text = (ROOT / "deploy" / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_as_a_non_root_user_with_a_health_check():
    instructions = dockerfile_instructions()
    final = instructions[max(i for i, line in enumerate(instructions) if line.startswith("FROM "))]
    after = instructions[instructions.index(final):]
    users = [line.split()[1] for line in after if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}, "the image's last USER is root"
    assert any(line.startswith("RUN ") and "useradd --system --uid" in line and users[-1] in line for line in after)
    health = [line for line in after if line.startswith("HEALTHCHECK ")]
    assert len(health) == 1
    assert 'CMD ["python", "-m", "services.cli.healthcheck"]' in health[0]


class _Ready(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        type(self).seen = self.path
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def probe_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def cmdline(tmp_path: Path, *args: str) -> str:
    path = tmp_path / "cmdline"
    path.write_bytes("\0".join(args).encode() + b"\0")
    return str(path)


def test_the_health_check_asks_the_served_process_its_readiness(tmp_path, monkeypatch, probe_server):
    monkeypatch.setenv("HTTP_PORT_REVIEW", str(probe_server.server_port))
    proc = cmdline(tmp_path, "/usr/local/bin/python", "/usr/local/bin/caseplatform", "serve", "review")
    _Ready.status = 200
    assert healthcheck.main(proc) == 0
    assert _Ready.seen == "/review/health/ready"
    _Ready.status = 503
    assert healthcheck.main(proc) == 1


def test_the_health_check_fails_when_nothing_listens_and_passes_when_nothing_is_served(tmp_path, monkeypatch):
    with http.server.HTTPServer(("127.0.0.1", 0), _Ready) as closed:
        port = closed.server_port
    monkeypatch.setenv("HTTP_PORT_RELAY", str(port))
    assert healthcheck.main(cmdline(tmp_path, "caseplatform", "serve", "relay")) == 1
    assert healthcheck.main(cmdline(tmp_path, "caseplatform", "--help")) == 0
    assert healthcheck.ready_url("console", {}) == "http://127.0.0.1:8100/"
    assert healthcheck.ready_url("audit", {}) == f"http://127.0.0.1:{DEFAULT_PORTS['audit']}/audit/health/ready"


def test_every_service_and_the_console_keep_two_replicas_and_scale_on_load(rendered):
    for docs in rendered.values():
        scalers = named(docs, "HorizontalPodAutoscaler")
        for name in (*SERVICES, "console", "proxy"):
            spec = scalers[name]["spec"]
            assert spec["scaleTargetRef"]["name"] == name and spec["minReplicas"] == 2 < spec["maxReplicas"]
        assert "relay" not in scalers  # one leads at a time: more relays add nothing
