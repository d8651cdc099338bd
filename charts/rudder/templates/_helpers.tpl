{{/* The chart's name. */}}
{{- define "rudder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<name>`, or the release name when it contains the chart name. */}}
{{- define "rudder.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Each component's key and binary, in start order. */}}
{{- define "rudder.binaries" -}}
admissionWebhooks: rudder-admission-webhooks
scheduler: rudder-scheduler
replicaset: rudder-replicaset-controller
deployment: rudder-deployment-controller
daemonset: rudder-daemonset-controller
job: rudder-job-controller
hpa: rudder-hpa-controller
{{- end -}}

{{/* The component keys in start order. */}}
{{- define "rudder.order" -}}
[admissionWebhooks, scheduler, replicaset, deployment, daemonset, job, hpa]
{{- end -}}

{{/* Labels on every object but the instance (which selectorLabels carry). */}}
{{- define "rudder.baseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: rudder
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Labels of an object that belongs to no one component. */}}
{{- define "rudder.labels" -}}
{{ include "rudder.baseLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
A component's selector labels; the e2e harness finds a component's pods by
app.kubernetes.io/name=<binary>.
Call with (dict "root" $ "key" $key).
*/}}
{{- define "rudder.selectorLabels" -}}
{{- $binaries := include "rudder.binaries" .root | fromYaml -}}
app.kubernetes.io/name: {{ index $binaries .key }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* A component's labels: (dict "root" $ "key" $key). */}}
{{- define "rudder.componentLabels" -}}
{{ include "rudder.baseLabels" .root }}
{{ include "rudder.selectorLabels" . }}
app.kubernetes.io/component: {{ .key | kebabcase }}
{{- end -}}

{{/* A component's resource name: (dict "root" $ "key" $key). */}}
{{- define "rudder.componentName" -}}
{{- printf "%s-%s" (include "rudder.fullname" .root) (.key | kebabcase) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A component's values over componentDefaults, as YAML: (dict "root" $ "key" $key). */}}
{{- define "rudder.component" -}}
{{- $c := index .root.Values.components .key | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.componentDefaults) (deepCopy $c)) -}}
{{- end -}}

{{/* The webhook server's Service name. */}}
{{- define "rudder.webhookService" -}}
{{- include "rudder.componentName" (dict "root" . "key" "admissionWebhooks") -}}
{{- end -}}

{{/* The webhook server's TLS Secret. */}}
{{- define "rudder.webhookSecret" -}}
{{- printf "%s-tls" (include "rudder.webhookService" .) -}}
{{- end -}}

{{/* The image of every component. */}}
{{- define "rudder.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
