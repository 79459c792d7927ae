#!/usr/bin/env python3
"""Validates custom resources against their CRDs' openAPIV3Schema, strictly.

    .tools/bin/python deploy/tools/validate-crs.py --crd CRD.yaml [--crd ...] MANIFEST.yaml...

kubernetes-validate knows only the built-in kinds; this covers the rest. The schema of the
object's version is turned into JSON Schema (draft 4): `nullable`, `x-kubernetes-int-or-string`
are translated, and an object schema with `properties` rejects unknown fields unless it says
`x-kubernetes-preserve-unknown-fields` (as `kubectl apply --validate=strict` would).
CEL rules (`x-kubernetes-validations`) are not evaluated. A document whose kind has no CRD
among --crd is an error, never skipped. Exit 0 when every document is valid.
"""

import argparse
import sys

import jsonschema
import yaml


def to_json_schema(node):
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key.startswith("x-kubernetes-") or key == "nullable":
            continue
        else:
            out[key] = to_json_schema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out = {"anyOf": [{"type": "integer"}, {"type": "string"}], **out}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (
        node.get("type") == "object"
        and "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def load_crds(paths):
    schemas = {}
    for path in paths:
        with open(path) as f:
            for crd in yaml.safe_load_all(f):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = version["schema"]["openAPIV3Schema"]
                    converted = to_json_schema(schema)
                    # The API server accepts these at the root whether the schema names them
                    # or not.
                    props = converted.setdefault("properties", {})
                    props.setdefault("apiVersion", {"type": "string"})
                    props.setdefault("kind", {"type": "string"})
                    props.setdefault("metadata", {"type": "object"})
                    schemas[(f"{group}/{version['name']}", kind)] = converted
    return schemas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crd", action="append", required=True)
    parser.add_argument("manifests", nargs="+")
    args = parser.parse_args()
    schemas = load_crds(args.crd)
    failed = 0
    for path in args.manifests:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            key = (doc.get("apiVersion"), doc.get("kind"))
            name = f"{path}: {key[1]} {doc.get('metadata', {}).get('name')}"
            schema = schemas.get(key)
            if schema is None:
                print(f"FAIL {name}: no CRD for {key[0]} {key[1]}")
                failed += 1
                continue
            validator = jsonschema.Draft4Validator(schema)
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            if errors:
                failed += 1
                for e in errors:
                    where = "/".join(str(p) for p in e.path) or "(root)"
                    print(f"FAIL {name}: {where}: {e.message}")
            else:
                print(f"PASS {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
