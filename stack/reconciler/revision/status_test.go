package revision

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestDeploymentReadiness_Section1_5(t *testing.T) {
	progressing := func(s corev1.ConditionStatus, reason string) appsv1.DeploymentCondition {
		return appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: s, Reason: reason}
	}
	replicaFailure := func(s corev1.ConditionStatus, reason string) appsv1.DeploymentCondition {
		return appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: s, Reason: reason}
	}
	cases := []struct {
		name       string
		conds      []appsv1.DeploymentCondition
		wantStatus corev1.ConditionStatus
		wantReason string
	}{
		{"no conditions yet", nil, corev1.ConditionUnknown, ReasonDeploying},
		{"progressing", []appsv1.DeploymentCondition{progressing(corev1.ConditionTrue, "NewReplicaSetAvailable")}, corev1.ConditionTrue, ""},
		{"progress deadline exceeded", []appsv1.DeploymentCondition{progressing(corev1.ConditionFalse, "ProgressDeadlineExceeded")}, corev1.ConditionFalse, "ProgressDeadlineExceeded"},
		{"replica failure outranks progress", []appsv1.DeploymentCondition{progressing(corev1.ConditionFalse, "ProgressDeadlineExceeded"), replicaFailure(corev1.ConditionTrue, "FailedCreate")}, corev1.ConditionFalse, "FailedCreate"},
		{"replica failure cleared", []appsv1.DeploymentCondition{progressing(corev1.ConditionTrue, ""), replicaFailure(corev1.ConditionFalse, "")}, corev1.ConditionTrue, ""},
	}
	for _, c := range cases {
		got := deploymentReadiness(&appsv1.DeploymentStatus{Conditions: c.conds})
		if got.status != c.wantStatus || got.reason != c.wantReason {
			t.Errorf("deploymentReadiness(%s) = %s/%s, want %s/%s", c.name, got.status, got.reason, c.wantStatus, c.wantReason)
		}
	}
}
