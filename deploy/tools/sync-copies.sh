#!/usr/bin/env bash
# Refreshes the copies kustomize and Helm need inside their own directories (neither loads
# files from outside it): the CRDs from crds/, the dashboard from deploy/grafana/, the alerts
# from the kustomize component into the chart. tests/deploy.rs fails while they differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
for dir in deploy/kustomize/base/crds deploy/helm/sluice/crds; do
  rm -f "$dir"/*.yaml
  cp crds/*.yaml "$dir"/
done
cp deploy/grafana/sluice-dashboard.json deploy/kustomize/components/dashboard/
cp deploy/grafana/sluice-dashboard.json deploy/helm/sluice/files/
cp deploy/kustomize/components/prometheusrule/prometheusrule.yaml deploy/helm/sluice/files/
