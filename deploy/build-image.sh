#!/usr/bin/env bash
# Builds the sluice image from deploy/Containerfile with podman, else buildah (both in Debian:
# `apt-get install podman`). Not part of CI: the Containerfile is linted by tests/deploy.rs.
#
#   deploy/build-image.sh [IMAGE]        default IMAGE: ghcr.io/sluice-dev/sluice:<version>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
image="${1:-ghcr.io/sluice-dev/sluice:$version}"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
args=(--file deploy/Containerfile --tag "$image"
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")

if command -v podman >/dev/null 2>&1; then
  podman build "${args[@]}" .
elif command -v buildah >/dev/null 2>&1; then
  buildah build "${args[@]}" .
else
  echo "build-image.sh: neither podman nor buildah is installed (apt-get install podman)" >&2
  exit 1
fi
echo "built $image"
