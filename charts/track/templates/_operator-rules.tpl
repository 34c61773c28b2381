{{/*
RBAC rules the operator needs in every mode, at cluster scope.
*/}}
{{- define "track.operator.clusterRules" -}}
# kopf lists CRDs at startup to find the resources it serves.
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
# kopf lists namespaces to resolve namespace patterns and cluster-wide watching.
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/*
RBAC rules the operator needs in each namespace it watches.
*/}}
{{- define "track.operator.namespacedRules" -}}
# Restarts and termination messages are read from pod status.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# A pod's owner chain (ReplicaSet -> Deployment, StatefulSet) names the workload.
- apiGroups: ["apps"]
  resources: ["replicasets", "deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["track.dev"]
  resources: ["failurepatterns"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["track.dev"]
  resources: ["failurepatterns/status"]
  verbs: ["get", "patch", "update"]
# Events about patterns and kopf's own handler events.
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch", "update"]
{{- end }}
