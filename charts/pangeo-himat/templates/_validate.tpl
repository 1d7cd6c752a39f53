{{/*
Checks a JSON schema cannot express, made where the value is rendered so that `helm template`
refuses what the Kubernetes API server would refuse (k8s.io/kubernetes pkg/apis/core/validation
validation.go: ValidateResourceRequirements, ValidateTolerations; pkg/apis/policy/validation:
ValidatePodDisruptionBudgetSpec). values.schema.yaml has already checked each value's form.
*/}}

{{/*
A quantity the schema accepted ("400m", "1.5", "1600Mi") in thousandths of its unit, computed
as digits x factor / 10^decimals so that equal amounts compare equal ("600m" = "0.6").
*/}}
{{- define "pangeo-himat.quantityValue" -}}
{{- $text := toString . -}}
{{- $number := regexFind "^[0-9]*\\.?[0-9]*" $text -}}
{{- $suffix := trimPrefix $number $text -}}
{{- $decimals := len (regexFind "[0-9]*$" (regexFind "\\.[0-9]*$" $number)) -}}
{{- $digits := replace "." "" $number -}}
{{- $factors := dict "m" 1.0 "" 1e3 "k" 1e6 "M" 1e9 "G" 1e12 "T" 1e15 "P" 1e18 "E" 1e21 "Ki" 1024e3 "Mi" 1048576e3 "Gi" 1073741824e3 "Ti" 1099511627776e3 "Pi" 1125899906842624e3 "Ei" 1152921504606846976e3 -}}
{{- divf (mulf (float64 $digits) (get $factors $suffix)) (float64 (printf "1%s" (repeat $decimals "0"))) -}}
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

{{/*
CIDRs as YAML, after the API server's strict CIDR rule: no bits set beyond the prefix length
(k8s.io/apimachinery pkg/util/validation/ip.go parseCIDR, "must not have bits set beyond the
prefix length"; v1.36 refuses 10.0.0.1/8). (dict "cidrs" list "at" "jupyter.service....")
*/}}
{{- define "pangeo-himat.cidrs" -}}
{{- range $index, $cidr := .cidrs -}}
{{- $parts := splitList "/" $cidr -}}
{{- $octets := splitList "." (first $parts) -}}
{{- $address := 0 -}}
{{- range $octet := $octets -}}{{- $address = add (mul $address 256) (atoi $octet) -}}{{- end -}}
{{- $block := 1 -}}
{{- range until (sub 32 (atoi (last $parts)) | int) -}}{{- $block = mul $block 2 -}}{{- end -}}
{{- $network := sub $address (mod $address $block) -}}
{{- if ne $network $address -}}
{{- $dotted := printf "%d.%d.%d.%d" (div $network 16777216) (mod (div $network 65536) 256) (mod (div $network 256) 256) (mod $network 256) -}}
{{- fail (printf "%s[%d]: %s has bits set beyond the prefix length; Kubernetes refuses it, use the network %s/%s" $.at $index $cidr $dotted (last $parts)) -}}
{{- end -}}
{{- end -}}
{{- toYaml .cidrs -}}
{{- end -}}
