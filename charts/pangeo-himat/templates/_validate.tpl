{{/*
Checks a JSON schema cannot express, made where the value is rendered so that `helm template`
refuses what the Kubernetes API server would refuse (k8s.io/kubernetes pkg/apis/core/validation
validation.go: ValidateResourceRequirements, ValidateTolerations; pkg/apis/policy/validation:
ValidatePodDisruptionBudgetSpec). values.schema.yaml has already checked each value's form.
*/}}

{{/* A quantity the schema accepted ("400m", "1.5", "1600Mi"), as a float in base units. */}}
{{- define "pangeo-himat.quantityValue" -}}
{{- $text := toString . -}}
{{- $number := regexFind "^[0-9]*\\.?[0-9]*" $text -}}
{{- $suffix := trimPrefix $number $text -}}
{{- $factors := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- mulf (float64 $number) (get $factors $suffix) -}}
{{- end -}}

{{/* resources as YAML, after checking no request is above its limit. (dict "resources" r "at" "worker.resources") */}}
{{- define "pangeo-himat.resources" -}}
{{- range $name := list "cpu" "memory" -}}
{{- $request := index $.resources.requests $name -}}
{{- $limit := index $.resources.limits $name -}}
{{- if gt (float64 (include "pangeo-himat.quantityValue" $request)) (float64 (include "pangeo-himat.quantityValue" $limit)) -}}
{{- fail (printf "%s.requests.%s: %s is above the limit %s; Kubernetes refuses a request above its limit" $.at $name (toString $request) (toString $limit)) -}}
{{- end -}}
{{- end -}}
{{- toYaml .resources -}}
{{- end -}}

{{/* tolerations as YAML, after Kubernetes' rules for them. (dict "tolerations" t "at" "worker.tolerations") */}}
{{- define "pangeo-himat.tolerations" -}}
{{- range $index, $t := .tolerations -}}
{{- $where := printf "%s[%d]" $.at $index -}}
{{- $operator := $t.operator | default "Equal" -}}
{{- if and (eq $operator "Exists") ($t.value) -}}
{{- fail (printf "%s.value: must be empty with operator Exists (it matches every value)" $where) -}}
{{- end -}}
{{- if and (not $t.key) (ne $operator "Exists") -}}
{{- fail (printf "%s.operator: must be Exists when key is empty" $where) -}}
{{- end -}}
{{- if and (hasKey $t "tolerationSeconds") (ne ($t.effect | default "") "NoExecute") -}}
{{- fail (printf "%s.tolerationSeconds: only allowed with effect NoExecute" $where) -}}
{{- end -}}
{{- end -}}
{{- toYaml .tolerations -}}
{{- end -}}

{{/* An IntOrString: an integer stays an integer, a percentage stays a string ("50%"). */}}
{{- define "pangeo-himat.intOrPercent" -}}
{{- if kindIs "string" .value -}}
{{- if not (regexMatch "^([0-9]|[1-9][0-9]|100)%$" .value) -}}
{{- fail (printf "%s: %q is neither an integer nor a percentage from 0%% to 100%%" .at .value) -}}
{{- end -}}
{{- .value | quote -}}
{{- else -}}
{{- int64 .value -}}
{{- end -}}
{{- end -}}
