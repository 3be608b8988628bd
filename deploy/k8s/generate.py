"""Writes base/platform.yaml (the platform's own Deployments, Services, PodDisruptionBudgets,
HorizontalPodAutoscaler and NetworkPolicies) and base/keycloak-realm.yaml (the realm of
deploy/keycloak/caseplatform-realm.json inside a KeycloakRealmImport), so the eight workloads
share one shape and the realm has one source. Run after changing either, and commit both:

    python deploy/k8s/generate.py

tests/unit/test_k8s_manifests.py fails when the committed files differ from what this writes.
The environment mirrors docker-compose.yml; secrets are referenced by name, never held.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).parent
REPO = HERE.parents[1]
IMAGE = "registry.example.invalid/caseplatform:0.1.0"  # overlays set the real one (images:)
LABELS = {"app.kubernetes.io/part-of": "caseplatform"}
SERVICES = {"intake": 8101, "verification": 8102, "review": 8103, "publication": 8104,
            "documents": 8105, "audit": 8106, "notifications": 8108}
TIMERS = {"intake", "review", "publication"}  # their timers sign in as caseplatform-timers


def secret(name: str, key: str) -> dict:
    return {"valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


def url(key: str) -> dict:
    # The two public URLs are in the ConfigMap caseplatform-urls (base/urls.yaml), which each
    # overlay sets with the Ingress's hosts and Keycloak's hostname.
    return {"valueFrom": {"configMapKeyRef": {"name": "caseplatform-urls", "key": key}}}


def env(pairs: dict) -> list[dict]:
    return [{"name": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in pairs.items()]


TOKEN_ENV = {
    "AUTH_MODE": "oidc",
    "OIDC_ISSUER": url("oidc-issuer"),
    "OIDC_AUDIENCE": "caseplatform",
    "OIDC_ALGORITHMS": "RS256",
    "OIDC_ROLE_CLAIM": "realm_access.roles",
}

# The primary of the cluster that serves the platform (base/postgres.yaml): a restore cuts over
# by pointing this Service at the restored cluster.
DB = "caseplatform-postgres:5432"


def platform_env(user: str) -> dict:
    # $(VAR) refers to a variable defined earlier in the list: the password stays in its Secret.
    return {
        **TOKEN_ENV,
        "DB_PASSWORD": secret("caseplatform-db-app", "password"),
        "LEDGER_URL": f"postgresql://caseplatform:$(DB_PASSWORD)@{DB}/caseplatform",
        "HTTP_HOST": "0.0.0.0",
        "CASEPLATFORM_DATA_DIR": "/var/lib/caseplatform",
        "RELAY_IN_PROCESS": "false",
        "AMQP_PASSWORD": secret("caseplatform-amqp", user),
        "AMQP_URI": f"amqp://caseplatform-{user}:$(AMQP_PASSWORD)@caseplatform-mq:5672/caseplatform",
    }


def service_env(name: str) -> dict:
    values = {
        **platform_env(name),
        "READMODEL_URL": f"postgresql://caseplatform:$(DB_PASSWORD)@{DB}/caseplatform_{{service}}",
        "PERSONAL_KEYS_URL": f"postgresql://caseplatform:$(DB_PASSWORD)@{DB}/caseplatform_personal",
        "S3_ENDPOINT": "seaweedfs-s3:8333",
        "S3_ACCESS_KEY": secret("caseplatform-s3-services", "access-key"),
        "S3_SECRET_KEY": secret("caseplatform-s3-services", "secret-key"),
        "S3_BUCKET": "evidence",
        "S3_CHECKPOINT_BUCKET": "checkpoints",
        "S3_SECURE": "false",
        "MAX_UPLOAD_BYTES": "536870912",
        **{f"HTTP_PORT_{s.upper()}": str(p) for s, p in SERVICES.items()},
        "CLIENT_IP_HEADER": "X-Real-IP",
    }
    if name in TIMERS:
        values["TIMER_CLIENT_SECRET"] = secret("caseplatform-timers", "client-secret")
    if name == "notifications":  # the deployment's mail server (an overlay names it), as compose
        values.update(SMTP_HOST="smtp.example.invalid", SMTP_PORT="587", SMTP_SECURITY="starttls",
                      SMTP_FROM="notifications@caseplatform.invalid")
    if name == "audit":
        values["CHECKPOINT_KEY_PATH"] = "/var/lib/caseplatform/keys/checkpoint-ed25519.pem"
    return values


CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod_security(uid: int) -> dict:
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"}}


def probe(port: int, path: str, period: int) -> dict:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 5,
            "failureThreshold": 6}


def workload(name: str, port: int, *, command: list[str], env_values: dict, access: dict[str, str],
             ready: str, live: str, image: str = IMAGE, uid: int = 10001, replicas: int = 2,
             mounts: list[dict] | None = None, volumes: list[dict] | None = None,
             resources: dict | None = None) -> list[dict]:
    labels = {**LABELS, "app.kubernetes.io/name": name}
    scratch = [{"name": "tmp", "emptyDir": {}}]
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "Always",
        **({"command": command} if command else {}),
        "ports": [{"name": "http", "containerPort": port}],
        **({"env": env(env_values)} if env_values else {}),
        "readinessProbe": probe(port, ready, 10),
        "livenessProbe": probe(port, live, 20),
        "startupProbe": {**probe(port, live, 5), "failureThreshold": 30},
        "resources": resources or {"requests": {"cpu": "100m", "memory": "256Mi"},
                                   "limits": {"cpu": "1", "memory": "768Mi"}},
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *(mounts or [])],
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": {**labels, **access}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(uid),
                    "containers": [container],
                    "volumes": scratch + (volumes or []),
                },
            },
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
        "spec": {"selector": {"app.kubernetes.io/name": name},
                 "ports": [{"name": "http", "port": port, "targetPort": port}]},
    }
    # One process of each may be evicted at a time: the other keeps serving (two replicas of
    # every service and the relay are proven side by side: tests/faults/test_replicas.py).
    pdb = {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": labels},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
    }
    return [deployment, service, pdb]


def autoscaler(name: str, most: int) -> dict:
    """Two replicas always, more on CPU load (the services' HTTP; their queues have one active consumer)."""
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": LABELS},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                 "minReplicas": 2, "maxReplicas": most,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                     "type": "Utilization", "averageUtilization": 70}}}]},
    }


def data_dir(extra: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    mounts = [{"name": "data", "mountPath": "/var/lib/caseplatform"}, *(extra or [])]
    return mounts, [{"name": "data", "emptyDir": {}}]


def allow_from(name: str, port: int, sources: list[dict]) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-ingress", "labels": LABELS},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                 "policyTypes": ["Ingress"],
                 "ingress": [{"from": sources, "ports": [{"port": port, "protocol": "TCP"}]}]},
    }


API_CLIENTS = [{"podSelector": {"matchLabels": {"caseplatform.io/api-client": "true"}}}]
INGRESS_CONTROLLER = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
BACKEND = {"caseplatform.io/db-client": "true", "caseplatform.io/mq-client": "true"}


def platform() -> list[dict]:
    docs: list[dict] = []
    for name, port in SERVICES.items():
        extra, volumes = [], []
        if name == "audit":  # the checkpoint signing key: in this pod and no other
            extra = [{"name": "checkpoint-key", "mountPath": "/var/lib/caseplatform/keys", "readOnly": True}]
            volumes = [{"name": "checkpoint-key", "secret": {"secretName": "caseplatform-checkpoint-key",
                                                            "defaultMode": 0o440}}]
        mounts, data = data_dir(extra)
        docs += workload(name, port, command=["caseplatform", "serve", name], env_values=service_env(name),
                         access={**BACKEND, "caseplatform.io/s3-client": "true"},
                         ready=f"/{name}/health/ready", live=f"/{name}/health/live",
                         mounts=mounts, volumes=data + volumes)
        docs.append(allow_from(name, port, API_CLIENTS))
        docs.append(autoscaler(name, 4))
    mounts, data = data_dir()
    docs += workload("relay", 8107, command=["caseplatform", "serve", "relay"],
                     env_values={**platform_env("relay"), "HTTP_PORT_RELAY": "8107"}, access=BACKEND,
                     ready="/relay/health/ready", live="/relay/health/live", mounts=mounts, volumes=data)
    docs.append({  # the relay serves no one: only the kubelet's probes reach it
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "relay-ingress", "labels": LABELS},
        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "relay"}}, "policyTypes": ["Ingress"]},
    })
    mounts, data = data_dir()
    console_env = {**TOKEN_ENV, "CONSOLE_HOST": "0.0.0.0", "CONSOLE_PORT": "8100",
                   "CONSOLE_PUBLIC_URL": url("console-url"),
                   **{f"CONSOLE_{s.upper()}_URL": f"http://{s}:{p}" for s, p in SERVICES.items()},
                   # Its sessions in a database of their own, sealed with a key no other pod holds,
                   # so any replica serves anyone and losing one signs nobody out.
                   "DB_PASSWORD": secret("caseplatform-db-app", "password"),
                   "CONSOLE_SESSIONS_URL": f"postgresql://caseplatform:$(DB_PASSWORD)@{DB}/caseplatform_console",
                   "CONSOLE_SESSION_KEY": secret("caseplatform-console-session", "key")}
    docs += workload("console", 8100, command=["caseplatform", "serve", "console"], env_values=console_env,
                     access={"caseplatform.io/api-client": "true", "caseplatform.io/db-client": "true"},
                     ready="/", live="/", mounts=mounts, volumes=data)
    docs.append(allow_from("console", 8100, [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "proxy"}}}]))
    docs.append(autoscaler("console", 4))
    docs += proxy()
    docs.append({  # nothing reaches a pod here that a policy does not name
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-ingress", "labels": LABELS},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    })
    return docs


def proxy() -> list[dict]:
    mounts = [
        {"name": "templates", "mountPath": "/etc/nginx/templates", "readOnly": True},
        {"name": "conf", "mountPath": "/etc/nginx/conf.d"},
        {"name": "cache", "mountPath": "/var/cache/nginx"},
    ]
    volumes = [
        {"name": "templates", "configMap": {"name": "proxy-templates", "items": [
            {"key": "caseplatform.conf.template", "path": "default.conf.template"},
            {"key": "caseplatform-routes.inc.template", "path": "caseplatform-routes.inc.template"}]}},
        {"name": "conf", "emptyDir": {}},
        {"name": "cache", "emptyDir": {}},
    ]
    # nginx-unprivileged: the official image's build for an unprivileged user, listening on 8080;
    # every path it writes is an emptyDir here, so any uid works.
    docs = workload("proxy", 8080, command=[], env_values={"MAX_UPLOAD_BYTES": "536870912"},
                    access={"caseplatform.io/api-client": "true"}, ready="/", live="/",
                    image="nginxinc/nginx-unprivileged:1.27-alpine", uid=10101, replicas=2,
                    mounts=mounts, volumes=volumes,
                    resources={"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}})
    container = docs[0]["spec"]["template"]["spec"]["containers"][0]
    # "/" is the console behind it: the proxy's own health is whether it accepts connections.
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        container[kind] = {**container[kind], "tcpSocket": {"port": 8080}}
        del container[kind]["httpGet"]
    docs[2]["spec"] = {"minAvailable": 1, "selector": docs[2]["spec"]["selector"]}
    docs.append(autoscaler("proxy", 6))  # it holds no state
    docs.append(allow_from("proxy", 8080, INGRESS_CONTROLLER))
    return docs


def realm_import() -> dict:
    realm = json.loads((REPO / "deploy/keycloak/caseplatform-realm.json").read_text())
    return {
        "apiVersion": "k8s.keycloak.org/v2alpha1", "kind": "KeycloakRealmImport",
        "metadata": {"name": "caseplatform", "labels": LABELS},
        "spec": {
            "keycloakCRName": "caseplatform-id",
            "realm": realm,
            # The realm file's ${VAR}s, filled at import from Secrets (as compose does from its env).
            "placeholders": {
                "TIMER_CLIENT_SECRET": {"secret": {"name": "caseplatform-timers", "key": "client-secret"}},
                "CONSOLE_URL": {"secret": {"name": "caseplatform-console-url", "key": "url"}},
            },
        },
    }


HEADER = "# Written by deploy/k8s/generate.py: change that, not this file.\n"


def rendered() -> dict[Path, str]:
    def dump(docs: list[dict]) -> str:
        return HEADER + "---\n".join(yaml.safe_dump(d, sort_keys=False, allow_unicode=True) for d in docs)
    return {HERE / "base/platform.yaml": dump(platform()), HERE / "base/keycloak-realm.yaml": dump([realm_import()])}


if __name__ == "__main__":
    for path, text in rendered().items():
        path.write_text(text)
        print(path)
