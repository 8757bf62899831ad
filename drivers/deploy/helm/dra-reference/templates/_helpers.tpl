{{/* The image, its tag defaulting to the chart's appVersion. */}}
{{- define "dra-reference.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Labels of every object of one component. */}}
{{- define "dra-reference.labels" -}}
app.kubernetes.io/name: dra-reference
app.kubernetes.io/component: {{ . }}
{{- end }}
