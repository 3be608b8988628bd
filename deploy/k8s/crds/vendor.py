"""Writes the openAPIV3Schema of each custom resource the manifests use, from the operators'
released CRD files, to <group>_<kind>.json here (descriptions dropped: they are most of the
size and no part of validation). Run by hand when an operator's version changes:

    python deploy/k8s/crds/vendor.py CRD.yaml...

The files here came from (repository, tag or commit):
  cloudnative-pg/cloudnative-pg          v1.30.0-86-ga95a534db  config/crd/bases/postgresql.cnpg.io_clusters.yaml,
                                                                ..._databases.yaml, ..._scheduledbackups.yaml
  cloudnative-pg/plugin-barman-cloud     v0.14.0-1-g9967e2c     config/crd/bases/barmancloud.cnpg.io_objectstores.yaml
  rabbitmq/cluster-operator              06cda8e8e1a9           config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml
  keycloak/keycloak-k8s-resources        26.0.0                 kubernetes/keycloaks.k8s.keycloak.org-v1.yml,
                                                                kubernetes/keycloakrealmimports.k8s.keycloak.org-v1.yml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def strip(node):
    if isinstance(node, dict):
        # a schema's description is text; a property called "description" is a schema (a dict)
        return {k: strip(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(paths: list[str]) -> None:
    for path in paths:
        crd = yaml.safe_load(Path(path).read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
        out = {"apiVersion": f"{group}/{version['name']}", "kind": kind,
               "schema": strip(version["schema"]["openAPIV3Schema"])}
        target = Path(__file__).with_name(f"{group}_{kind}.json")
        target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
        print(target)


if __name__ == "__main__":
    main(sys.argv[1:])
