package reconciler

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

// UpdateStatus writes obj's status (its Status field) if it differs from before (a deep copy
// taken at the start of the reconcile). A conflict is returned so the request is retried
// against fresh state.
//
// Conditions that end the reconcile as they started it keep their lastTransitionTime, so marks
// made on the way (Unknown, then True again) are not reported as transitions and do not cause a
// write that would trigger another reconcile (§1.7).
func UpdateStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	if b, ok := before.(duck.Object); ok {
		if a, ok := obj.(duck.Object); ok {
			SettleTransitionTimes(b.GetStatus(), a.GetStatus())
		}
	}
	if equality.Semantic.DeepEqual(statusField(before), statusField(obj)) {
		return nil
	}
	if err := c.Status().Update(ctx, obj); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// SettleTransitionTimes copies before's lastTransitionTime onto every condition of after whose
// status, reason, message and severity are unchanged.
func SettleTransitionTimes(before, after *duck.Status) {
	for i := range after.Conditions {
		c := &after.Conditions[i]
		if b := before.GetCondition(c.Type); b != nil && b.Status == c.Status && b.Reason == c.Reason &&
			b.Message == c.Message && b.Severity == c.Severity {
			c.LastTransitionTime = b.LastTransitionTime
		}
	}
}

// Kind is what Frame needs of a Knative object: an API object with the shared status block and
// a top-level Status field.
type Kind interface {
	client.Object
	duck.Object
}

// StatusUpdateError marks an error from writing status (as opposed to one from the work), for
// callers that act only once the status is stored.
type StatusUpdateError struct{ Err error }

func (e *StatusUpdateError) Error() string { return e.Err.Error() }
func (e *StatusUpdateError) Unwrap() error { return e.Err }

// Frame runs work inside the reconcile rules every Knative kind shares (§1.7): conditions of set
// are initialised and Ready goes Unknown on a new generation, work runs, observedGeneration is
// recorded, and the status is written if it changed. obj is modified in place.
func Frame[T Kind](ctx context.Context, c client.Client, obj T, set duck.ConditionSet, now time.Time,
	work func(duck.ConditionManager) (reconcile.Result, error)) (reconcile.Result, error) {
	before := obj.DeepCopyObject().(client.Object)
	st := obj.GetStatus()
	m := set.Manage(st, metav1.NewTime(now))
	PreReconcile(m, st, obj.GetGeneration())
	res, err := work(m)
	PostReconcile(st, obj.GetGeneration())
	if uerr := UpdateStatus(ctx, c, before, obj); uerr != nil {
		err = errors.Join(err, &StatusUpdateError{Err: uerr})
	}
	return res, err
}

// statusField returns an API object's Status field, the part UpdateStatus compares.
func statusField(o client.Object) any {
	return reflect.ValueOf(o).Elem().FieldByName("Status").Interface()
}
