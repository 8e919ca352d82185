{{- /* Derived from crd-ref-docs v0.3.0 templates/markdown (Apache-2.0): metadata keeps its doc
comment, and doc comments, wrapped at 100 columns, are joined into one line of the table. */ -}}
{{- define "type_members" -}}
{{ markdownRenderFieldDoc (.Doc | trim | replace "<" "&lt;" | replace ">" "&gt;" | replace "\n\n" "<br />" | replace "\n" " ") }}
{{- end -}}
