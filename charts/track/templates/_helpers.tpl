{{/*
Chart name, cut to 63 characters because Kubernetes label values and DNS names allow no more.
*/}}
{{- define "track.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects. A release name that already contains the chart name is
used alone, so "helm install track charts/track" gives "track" and not "track-track".
*/}}
{{- define "track.fullname" -}}
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
Name of a component object: "<fullname>-<component>", cut so the suffix survives.
Call with (dict "root" $ "component" "operator").
*/}}
{{- define "track.componentName" -}}
{{- $suffix := printf "-%s" .component }}
{{- printf "%s%s" (include "track.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "track.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object. part-of=track is also the operator's default pod selector.
*/}}
{{- define "track.labels" -}}
helm.sh/chart: {{ include "track.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: track
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "server").
*/}}
{{- define "track.selectorLabels" -}}
app.kubernetes.io/name: {{ include "track.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
All labels of one component's objects. Call with (dict "root" $ "component" "server").
*/}}
{{- define "track.componentLabels" -}}
{{ include "track.labels" .root }}
{{ include "track.selectorLabels" . }}
{{- end }}

{{/*
Image reference "repository:tag" or "repository@digest". Call with (dict "root" $ "image" .Values.image).
The tag defaults to the chart's appVersion, so no image is ever pulled as "latest".
*/}}
{{- define "track.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "track.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "track.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "track.operator.serviceAccountName" -}}
{{- default (include "track.componentName" (dict "root" . "component" "operator")) .Values.operator.serviceAccount.name }}
{{- end }}

{{/*
"true" when the bundled PostgreSQL runs: it is enabled and no external database is set.
*/}}
{{- define "track.postgresql.bundled" -}}
{{- if and .Values.postgresql.enabled (not .Values.externalDatabase.url) (not .Values.externalDatabase.existingSecret) }}true{{- end }}
{{- end }}

{{/*
"true" when the bundled Redis runs: it is enabled and no external Redis is set.
*/}}
{{- define "track.redis.bundled" -}}
{{- if and .Values.redis.enabled (not .Values.externalRedis.url) (not .Values.externalRedis.existingSecret) }}true{{- end }}
{{- end }}

{{/*
"true" when the service has shared rate-limit storage (bundled or external Redis).
*/}}
{{- define "track.redis.configured" -}}
{{- if or (include "track.redis.bundled" .) .Values.externalRedis.url .Values.externalRedis.existingSecret }}true{{- end }}
{{- end }}

{{/*
Name of the Secret the chart manages: the secret key, the bundled database's password and the
external URLs given as values.
*/}}
{{- define "track.secretName" -}}
{{- include "track.fullname" . }}
{{- end }}

{{/*
Value of a key in the chart's Secret, base64-encoded: the value given, else the value the live
Secret already has (so an upgrade keeps a generated key), else a new random one.
Call with (dict "root" $ "key" "secret-key" "value" .Values.secretKey.value "length" 48).
*/}}
{{- define "track.secretValue" -}}
{{- if .value }}
{{- .value | b64enc }}
{{- else }}
{{- $live := lookup "v1" "Secret" .root.Release.Namespace (include "track.secretName" .root) }}
{{- $liveData := dig "data" (dict) $live }}
{{- if hasKey $liveData .key }}
{{- index $liveData .key }}
{{- else }}
{{- randAlphaNum (int .length) | b64enc }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment variables shared by the service container and the migration init container.
*/}}
{{- define "track.env" -}}
{{- if include "track.postgresql.bundled" . }}
- name: POSTGRESQL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "track.secretName" . }}
      key: postgresql-password
- name: TRACK_DATABASE_URL
  value: {{ printf "postgresql://%s:$(POSTGRESQL_PASSWORD)@%s:5432/%s" .Values.postgresql.username (include "track.componentName" (dict "root" . "component" "postgresql")) .Values.postgresql.database | quote }}
{{- else }}
- name: TRACK_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ default (include "track.secretName" .) .Values.externalDatabase.existingSecret }}
      key: {{ ternary .Values.externalDatabase.existingSecretKey "database-url" (not (empty .Values.externalDatabase.existingSecret)) }}
{{- end }}
- name: TRACK_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default (include "track.secretName" .) .Values.secretKey.existingSecret }}
      key: {{ ternary .Values.secretKey.existingSecretKey "secret-key" (not (empty .Values.secretKey.existingSecret)) }}
{{- if include "track.redis.bundled" . }}
- name: TRACK_RATE_LIMIT_STORAGE
  value: {{ printf "redis://%s:6379/0" (include "track.componentName" (dict "root" . "component" "redis")) | quote }}
{{- else if or .Values.externalRedis.url .Values.externalRedis.existingSecret }}
- name: TRACK_RATE_LIMIT_STORAGE
  valueFrom:
    secretKeyRef:
      name: {{ default (include "track.secretName" .) .Values.externalRedis.existingSecret }}
      key: {{ ternary .Values.externalRedis.existingSecretKey "redis-url" (not (empty .Values.externalRedis.existingSecret)) }}
{{- else }}
- name: TRACK_RATE_LIMIT_STORAGE
  value: "memory://"
{{- end }}
- name: TRACK_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- end }}

{{/*
Checks that stop a release that would not work, each with a hint how to fix the values.
*/}}
{{- define "track.validate" -}}
{{- $maxReplicas := ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled }}
{{- if and (gt (int $maxReplicas) 1) (not (include "track.redis.configured" .)) }}
{{- fail (printf "replicas > 1 (%d) needs shared rate-limit storage, because each pod would count requests on its own: set redis.enabled=true, externalRedis.url or externalRedis.existingSecret, or set replicaCount=1" (int $maxReplicas)) }}
{{- end }}
{{- if not (or (include "track.postgresql.bundled" .) .Values.externalDatabase.url .Values.externalDatabase.existingSecret) }}
{{- fail "no database configured: set postgresql.enabled=true for the bundled PostgreSQL, or externalDatabase.url or externalDatabase.existingSecret" }}
{{- end }}
{{- if and (hasPrefix "sqlite" .Values.externalDatabase.url) (gt (int $maxReplicas) 1) }}
{{- fail "externalDatabase.url is an SQLite file, which pods cannot share: use PostgreSQL, or set replicaCount=1" }}
{{- end }}
{{- if and .Values.secretKey.value (lt (len .Values.secretKey.value) 32) }}
{{- fail "secretKey.value must be at least 32 characters; leave it empty to have one generated" }}
{{- end }}
{{- $shutdown := add .Values.preStopSleepSeconds .Values.config.drainSeconds .Values.config.graceSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $shutdown) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.drainSeconds + config.graceSeconds (%d), or the kubelet kills pods with requests in flight" (int .Values.terminationGracePeriodSeconds) (int $shutdown)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.operator.clusterWide .Values.operator.watchNamespaces }}
{{- fail "operator.watchNamespaces is only used when operator.clusterWide=false: set one of them" }}
{{- end }}
{{- end }}
