{{/*
RBAC rules of the operator, the same as operator/manifests/rbac-namespaced.yaml and
rbac-cluster.yaml (a packaging test compares them). Call with (dict "peering" "kopfpeerings")
in a Role, or (dict "peering" "clusterkopfpeerings") in the cluster-wide ClusterRole.
*/}}
{{- define "track.operator.rules" -}}
# Read pods: the operator never writes to them.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
# Events: list to find its own after a restart and to spot liveness-probe kills; write its own.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["list", "create", "patch"]
# A pod's owner chain (ReplicaSet -> Deployment, StatefulSet, Job) names the workload.
- apiGroups: ["apps"]
  resources: ["replicasets", "deployments", "statefulsets", "daemonsets"]
  verbs: ["get"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get"]
- apiGroups: ["track.dev"]
  resources: ["failurepatterns"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: ["track.dev"]
  resources: ["failurepatterns/status"]
  verbs: ["get", "patch"]
# kopf peering, used when TRACK_OPERATOR_STANDALONE is unset and the KopfPeering CRDs exist.
- apiGroups: ["kopf.dev"]
  resources: [{{ .peering | quote }}]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
