{{/*
satellite-operator.name is the chart's name, or nameOverride.
*/}}
{{- define "satellite-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
satellite-operator.fullname prefixes every object's name. A release named like the chart is not
repeated ("satellite-operator", not "satellite-operator-satellite-operator").
*/}}
{{- define "satellite-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
satellite-operator.chart is the helm.sh/chart label value.
*/}}
{{- define "satellite-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
satellite-operator.labels go on every object.
*/}}
{{- define "satellite-operator.labels" -}}
helm.sh/chart: {{ include "satellite-operator.chart" . }}
{{ include "satellite-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: checkstack
{{- end }}

{{/*
satellite-operator.selectorLabels select the manager's pods; they never change across upgrades
because a Deployment's selector is immutable.
*/}}
{{- define "satellite-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "satellite-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
satellite-operator.serviceAccountName is the manager's ServiceAccount.
*/}}
{{- define "satellite-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "satellite-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
satellite-operator.image is repository:tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "satellite-operator.image" -}}
{{- printf "%s:%s" .Values.manager.image.repository (default .Chart.AppVersion .Values.manager.image.tag) }}
{{- end }}

{{/*
satellite-operator.scheme is https when the manager serves wss itself, else http. Satellites
take it in CHECKSTACK_CORE_URL.
*/}}
{{- define "satellite-operator.scheme" -}}
{{- if .Values.manager.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}
