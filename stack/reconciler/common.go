package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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
// taken at the start of the reconcile).
//
// The write replaces the whole status (a JSON patch of /status) without a resourceVersion
// precondition. Every kind's status has a single writer, its reconciler, so all a precondition
// would catch is someone else's metadata or spec write since our read (the labeler's routes
// annotation, the parent's spec update), and Knative's generated reconcilers answer that
// conflict by fetching the latest object and writing the same desired status over it. The
// patch gets there in one round trip instead of a 409 and a retry.
//
// Conditions that end the reconcile as they started it keep their lastTransitionTime, so marks
// made on the way (Unknown, then True again) are not reported as transitions and do not cause a
// write that would trigger another reconcile (§1.7).
func UpdateStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	return updateStatus(ctx, c, nil, before, obj)
}

func updateStatus(ctx context.Context, c client.Client, lag *CacheLag, before, obj client.Object) error {
	if b, ok := before.(duck.Object); ok {
		if a, ok := obj.(duck.Object); ok {
			SettleTransitionTimes(b.GetStatus(), a.GetStatus())
		}
	}
	status := statusField(obj)
	if equality.Semantic.DeepEqual(statusField(before), status) {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/status", "value": status}})
	if err != nil {
		return fmt.Errorf("update status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	base := before.GetResourceVersion()
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	lag.wroteStatus(obj.GetUID(), base, obj.GetResourceVersion())
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

// conflictRetryDelay is how soon a reconcile that hit a write conflict runs again (its cache is
// behind; usually the newer object's watch event brings it back sooner).
const conflictRetryDelay = 50 * time.Millisecond

// Frame runs work inside the reconcile rules every Knative kind shares (§1.7): conditions of set
// are initialised and Ready goes Unknown on a new generation, work runs, observedGeneration is
// recorded, and the status is written if it changed. obj is modified in place. A conflict from
// a child's write is requeued quietly: the cache is behind and the newer object's event follows.
func Frame[T Kind](ctx context.Context, c client.Client, obj T, set duck.ConditionSet, now time.Time,
	work func(duck.ConditionManager) (reconcile.Result, error)) (reconcile.Result, error) {
	return FrameWith(ctx, c, nil, obj, set, now, work)
}

// FrameWith is Frame for a reconciler that tracks its writes in lag: a reconcile of the copy
// our own last status write replaced is skipped, since it could only recompute (and rewrite) a
// status from an outdated view, and the watch event of that write will reconcile the object
// again.
func FrameWith[T Kind](ctx context.Context, c client.Client, lag *CacheLag, obj T, set duck.ConditionSet, now time.Time,
	work func(duck.ConditionManager) (reconcile.Result, error)) (reconcile.Result, error) {
	if lag.staleStatus(obj.GetUID(), obj.GetResourceVersion()) {
		log.FromContext(ctx).V(1).Info("Skipping a reconcile of a cached copy older than our last status write")
		return reconcile.Result{}, nil
	}
	before := obj.DeepCopyObject().(client.Object)
	st := obj.GetStatus()
	m := set.Manage(st, metav1.NewTime(now))
	PreReconcile(m, st, obj.GetGeneration())
	res, err := work(m)
	PostReconcile(st, obj.GetGeneration())
	if uerr := updateStatus(ctx, c, lag, before, obj); uerr != nil {
		err = errors.Join(err, &StatusUpdateError{Err: uerr})
	}
	if err != nil && apierrors.IsConflict(err) {
		log.FromContext(ctx).V(1).Info("Requeueing after a write conflict", "error", err.Error())
		return reconcile.Result{RequeueAfter: conflictRetryDelay}, nil
	}
	return res, err
}

// statusField returns an API object's Status field, the part UpdateStatus compares.
func statusField(o client.Object) any {
	return reflect.ValueOf(o).Elem().FieldByName("Status").Interface()
}

// Concurrently runs the non-nil fns at once and returns their errors joined. Reconcilers use it for writes
// that do not depend on each other (a Revision's Deployment and PodAutoscaler, a Route's Ingress
// and placeholder Services), so a reconcile waits for one API round trip instead of one per
// child. The functions must not share unsynchronised state (in particular not the condition
// manager): decide what to write first, then write concurrently.
func Concurrently(fns ...func() error) error {
	fns = slices.DeleteFunc(slices.Clone(fns), func(fn func() error) bool { return fn == nil })
	if len(fns) == 1 {
		return fns[0]()
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
