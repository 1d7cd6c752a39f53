{{/*
Resource names: one named helper per resource, all derived from the release (or
fullnameOverride), so two releases in one namespace never collide.
*/}}
{{- define "pangeo-himat.fullname" -}}
{{- $name := default .Release.Name .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- /* Service names are DNS-1035 labels: a digit may not lead (validation.IsDNS1035Label). */ -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "fullnameOverride: %q (or the release name) must start with a letter and hold only a-z, 0-9 and -, since it names the Services" $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{- define "pangeo-himat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pangeo-himat.scheduler.fullname" -}}{{ include "pangeo-himat.fullname" . }}-scheduler{{- end -}}
{{- define "pangeo-himat.worker.fullname" -}}{{ include "pangeo-himat.fullname" . }}-worker{{- end -}}
{{- define "pangeo-himat.jupyter.fullname" -}}{{ include "pangeo-himat.fullname" . }}-jupyter{{- end -}}
{{- define "pangeo-himat.jupyter.config.fullname" -}}{{ include "pangeo-himat.fullname" . }}-jupyter-config{{- end -}}
{{- define "pangeo-himat.jupyter.pvc.fullname" -}}{{ include "pangeo-himat.fullname" . }}-jupyter-home{{- end -}}
{{- define "pangeo-himat.jupyter.pv.fullname" -}}{{ include "pangeo-himat.fullname" . }}-jupyter-home-{{ .Values.jupyter.storage.volumeId }}{{- end -}}
{{- define "pangeo-himat.test.fullname" -}}{{ include "pangeo-himat.fullname" . }}-test{{- end -}}
{{- define "pangeo-himat.user.serviceAccountName" -}}{{ include "pangeo-himat.fullname" . }}-user{{- end -}}
{{- define "pangeo-himat.controller.fullname" -}}{{ include "pangeo-himat.fullname" . }}-controller{{- end -}}
{{- define "pangeo-himat.controller.filesName" -}}{{ include "pangeo-himat.fullname" . }}-controller-files{{- end -}}
{{- define "pangeo-himat.controller.sleepConfigMap" -}}{{ include "pangeo-himat.fullname" . }}-sleep{{- end -}}
{{- define "pangeo-himat.scheduler.serviceAccountName" -}}{{ include "pangeo-himat.fullname" . }}-scheduler{{- end -}}

{{- define "pangeo-himat.jupyter.tokenSecretName" -}}
{{- .Values.jupyter.token.existingSecret | default (printf "%s-jupyter-token" (include "pangeo-himat.fullname" .)) -}}
{{- end -}}

{{- define "pangeo-himat.storageClassName" -}}
{{- .Values.jupyter.storage.storageClass.name | default (printf "%s-gp3-retain" (include "pangeo-himat.fullname" .)) -}}
{{- end -}}

{{/* Jupyter's Service port: 443 behind a TLS load balancer, else 80 (port-forward). */}}
{{- define "pangeo-himat.jupyter.servicePort" -}}
{{- if eq .Values.jupyter.service.type "LoadBalancer" }}443{{ else }}80{{ end -}}
{{- end -}}

{{- define "pangeo-himat.schedulerAddress" -}}
tcp://{{ include "pangeo-himat.scheduler.fullname" . }}:8786
{{- end -}}

{{- define "pangeo-himat.image" -}}
{{- if not (or .Values.image.tag .Values.image.digest) -}}
{{- fail "image: set image.tag or image.digest; an image pinned by neither could change under you" -}}
{{- end -}}
{{ .Values.image.repository }}{{ with .Values.image.tag }}:{{ . }}{{ end }}{{ with .Values.image.digest }}@{{ . }}{{ end }}
{{- end -}}

{{/* Labels on every object; the selector labels never change across upgrades. */}}
{{- define "pangeo-himat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pangeo-himat.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/*
The component of a template is the folder it lives in (templates/jupyter/ -> jupyter,
templates/tests/ -> test), as zero-to-jupyterhub's jupyterhub.componentLabel derives it, so no
template writes app.kubernetes.io/component by hand. Templates at the top level have none.
*/}}
{{- define "pangeo-himat.component" -}}
{{- $folder := .Template.Name | dir | base -}}
{{- if ne $folder "templates" -}}{{ $folder | trimSuffix "s" }}{{- end -}}
{{- end -}}

{{- define "pangeo-himat.componentSelectorLabels" -}}
{{ include "pangeo-himat.selectorLabels" . }}
app.kubernetes.io/component: {{ include "pangeo-himat.component" . }}
{{- end -}}

{{- define "pangeo-himat.componentLabels" -}}
{{ include "pangeo-himat.labels" . }}
app.kubernetes.io/component: {{ include "pangeo-himat.component" . }}
{{- end -}}

{{- define "pangeo-himat.labels" -}}
{{ include "pangeo-himat.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pangeo-himat
{{- end -}}

{{/* Restricted-profile security: non-root uid 1000 (the image's jovyan), no privileges. */}}
{{- define "pangeo-himat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "pangeo-himat.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Checks skipped on every workload, each with its reason (read by checkov). */}}
{{- define "pangeo-himat.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_43=The image is pinned by tag; settings refuse unpinned and latest tags, and a digest would change with every rebuild of the same tag upstream.
checkov.io/skip2: CKV_K8S_15=A pinned tag never changes, so IfNotPresent reuses the multi-GB Pangeo image already on the node.
checkov.io/skip3: CKV_K8S_40=The Pangeo image's user is jovyan, uid 1000, who owns its files; a higher uid could not use them.
{{- end -}}
