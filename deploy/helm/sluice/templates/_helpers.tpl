{{/*
The same labels as deploy/kustomize (no chart or release labels: tests/deploy.rs checks that
both render identical objects). Names are fixed: one operator per cluster owns the CRDs and the
cluster roles.
Call with the component name: {{ include "sluice.labels" "operator" }}.
*/}}
{{- define "sluice.labels" -}}
app.kubernetes.io/name: sluice
app.kubernetes.io/part-of: sluice
app.kubernetes.io/component: {{ . }}
{{- end }}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: sluice
app.kubernetes.io/component: operator
{{- end }}

