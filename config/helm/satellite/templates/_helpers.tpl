{{/*
satellite.name is the chart's name, or nameOverride.
*/}}
{{- define "satellite.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
satellite.fullname prefixes every object's name. A release named like the chart is not repeated.
*/}}
{{- define "satellite.fullname" -}}
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
satellite.chart is the helm.sh/chart label value.
*/}}
{{- define "satellite.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
satellite.labels go on every object.
*/}}
{{- define "satellite.labels" -}}
helm.sh/chart: {{ include "satellite.chart" . }}
{{ include "satellite.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: checkstack
app.kubernetes.io/component: agent
{{- end }}

{{/*
satellite.selectorLabels select the agent's pod; immutable across upgrades.
*/}}
{{- define "satellite.selectorLabels" -}}
app.kubernetes.io/name: {{ include "satellite.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
satellite.tokenSecretName is the Secret holding the token and the client ID: the existing one,
or the one this chart creates from token.value and token.clientId.
*/}}
{{- define "satellite.tokenSecretName" -}}
{{- if .Values.token.existingSecret }}
{{- .Values.token.existingSecret }}
{{- else }}
{{- printf "%s-token" (include "satellite.fullname" .) }}
{{- end }}
{{- end }}

{{/*
satellite.validate fails the render with a message that says what to set.
*/}}
{{- define "satellite.validate" -}}
{{- if not .Values.coreURL }}
{{- fail "coreURL is required: the manager's base URL, http(s)://host:port, as NOTES of the satellite-operator release print it (--set coreURL=https://satellites.example.com)" }}
{{- end }}
{{- if not (regexMatch "^https?://[^/]+" .Values.coreURL) }}
{{- fail (printf "coreURL %q must be http(s)://host[:port]; the agent turns it into ws(s):// and appends /api/ws/satellite" .Values.coreURL) }}
{{- end }}
{{- if .Values.token.existingSecret }}
{{- if or .Values.token.value .Values.token.clientId }}
{{- fail "set either token.existingSecret or token.value with token.clientId, not both" }}
{{- end }}
{{- else if not (and .Values.token.value .Values.token.clientId) }}
{{- fail "the satellite needs its credentials: set token.value and token.clientId (the token and clientId keys of Secret <satellite>-token in the operator's cluster), or token.existingSecret" }}
{{- end }}
{{- if and .Values.caBundle.configMapName .Values.caBundle.secretName }}
{{- fail "set at most one of caBundle.configMapName and caBundle.secretName" }}
{{- end }}
{{- end }}
