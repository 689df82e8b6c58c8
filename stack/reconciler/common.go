package reconciler

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/stack/apis/duck"
)

// Reasons shared by every kind.
const (
	// ReasonNewObservedGenFailure marks Ready Unknown while a new generation is being reconciled.
	ReasonNewObservedGenFailure = "NewObservedGenFailure"
)

// PreReconcile applies Knative's pre-reconcile rules: conditions are initialised to Unknown and,
// when the generation moved on, Ready becomes Unknown with NewObservedGenFailure.
func PreReconcile(m duck.ConditionManager, status *duck.Status, generation int64) {
	m.InitializeConditions()
	if status.ObservedGeneration != generation {
		m.MarkUnknown(duck.ConditionReady, ReasonNewObservedGenFailure, "unsuccessfully observed a new generation")
	}
}

// PostReconcile sets observedGeneration, whether or not the reconcile succeeded (§1.7).
func PostReconcile(status *duck.Status, generation int64) {
	status.ObservedGeneration = generation
}

// UpdateStatus writes obj's status if it differs from before (a deep copy taken at the start of
// the reconcile). A conflict is returned so the request is retried against fresh state.
func UpdateStatus(ctx context.Context, c client.Client, before, obj client.Object, statusOf func(client.Object) any) error {
	if equality.Semantic.DeepEqual(statusOf(before), statusOf(obj)) {
		return nil
	}
	if err := c.Status().Update(ctx, obj); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
