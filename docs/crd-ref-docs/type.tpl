{{- /* Derived from crd-ref-docs v0.3.0 templates/markdown (Apache-2.0): adds the kinds' short
names, the CEL rules (XValidation markers, which upstream leaves out) and a Required column, and
escapes < and > in doc comments, which markdown would take for HTML tags. */ -}}
{{- define "type" -}}
{{- $type := . -}}
{{- if markdownShouldRenderType $type }}

### {{ $type.Name }}
{{- if $type.IsAlias }}

_Underlying type:_ _{{ markdownRenderTypeLink $type.UnderlyingType }}_
{{- end }}

{{ $type.Doc | trim | replace "<" "&lt;" | replace ">" "&gt;" }}
{{- range index $type.Markers "kubebuilder:resource" }}
{{- with .ShortName }}

_Short name:_ {{ range $i, $n := . }}{{ if $i }}, {{ end }}`{{ $n }}`{{ end }}
{{- end }}
{{- end }}
{{- if $type.Validation }}

_Validation:_
{{- range $type.Validation }}
- {{ . }}
{{- end }}
{{- end }}
{{- with index $type.Markers "kubebuilder:validation:XValidation" }}

_Rules:_
{{- range . }}
- {{ .Message | replace "<" "&lt;" | replace ">" "&gt;" }}
{{- end }}
{{- end }}
{{- if $type.References }}

_Appears in:_
{{- range $type.SortedReferences }}
- {{ markdownRenderTypeLink . }}
{{- end }}
{{- end }}
{{- if $type.Members }}

| Field | Description | Required | Default | Validation |
| --- | --- | --- | --- | --- |
{{- if $type.GVK }}
| `apiVersion` _string_ | `{{ $type.GVK.Group }}/{{ $type.GVK.Version }}` | yes | | |
| `kind` _string_ | `{{ $type.GVK.Kind }}` | yes | | |
{{- end }}
{{- range $type.Members }}
{{- $required := false }}
{{- $checks := list }}
{{- range .Validation }}
{{- if hasPrefix "Required:" . }}{{ $required = true }}
{{- else if not (or (hasPrefix "Optional:" .) (hasPrefix "Type:" .)) }}{{ $checks = append $checks (markdownRenderFieldDoc .) }}
{{- end }}
{{- end }}
{{- /* Rules of the field's own type are listed with that type, not again on every field of it. */ -}}
{{- $rules := index .Markers "kubebuilder:validation:XValidation" }}
{{- if not (deepEqual $rules (index .Type.Markers "kubebuilder:validation:XValidation")) }}
{{- range $rules }}{{ $checks = append $checks (printf "Rule: %s" (markdownRenderFieldDoc (.Message | replace "<" "&lt;" | replace ">" "&gt;"))) }}{{ end }}
{{- end }}
| `{{ .Name }}` _{{ markdownRenderType .Type }}_ | {{ template "type_members" . }} | {{ if $required }}yes{{ else }}no{{ end }} | {{ with .Default }}`{{ . | replace "{  }" "{}" }}`{{ end }} | {{ join "<br />" $checks }} |
{{- end }}
{{- end }}
{{- if $type.EnumValues }}

| Value | Description |
| --- | --- |
{{- range $type.EnumValues }}
| `{{ .Name }}` | {{ markdownRenderFieldDoc (.Doc | trim | replace "<" "&lt;" | replace ">" "&gt;") }} |
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}
