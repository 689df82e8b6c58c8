package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/servingsim/servingsim/stack/apis"
	"github.com/servingsim/servingsim/stack/apis/duck"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sks(name string) *netv1alpha1.ServerlessService {
	return &netv1alpha1.ServerlessService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       netv1alpha1.ServerlessServiceSpec{Mode: netv1alpha1.SKSOperationModeProxy, NumActivators: 2},
	}
}

func newFakeClient(funcs interceptor.Funcs, objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(apis.NewScheme()).
		WithStatusSubresource(&netv1alpha1.ServerlessService{}).
		WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
}

func get(t *testing.T, c client.Client, name string) *netv1alpha1.ServerlessService {
	t.Helper()
	s := &netv1alpha1.ServerlessService{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func markPopulated(m duck.ConditionManager) (reconcile.Result, error) {
	m.MarkTrue(netv1alpha1.ServerlessServiceConditionEndpointsPopulated)
	return reconcile.Result{}, nil
}

// A reconcile of the copy our own status write replaced is skipped (the write's watch event
// reconciles again); any later copy is reconciled. §1.7's status is unaffected.
func TestFrame_SkipsTheCopyOurStatusWriteReplaced(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(interceptor.Funcs{}, sks("a"))
	lag := &CacheLag{}
	stale := get(t, c, "a")
	if _, err := FrameWith(ctx, c, lag, stale.DeepCopy(), netv1alpha1.ServerlessServiceConditions, t0, markPopulated); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "a"); !got.Status.GetCondition(duck.ConditionReady).IsTrue() || got.Status.ObservedGeneration != 1 {
		t.Fatalf("status after the first reconcile = %+v, want Ready True at observedGeneration 1", got.Status)
	}
	ran := false
	work := func(duck.ConditionManager) (reconcile.Result, error) { ran = true; return reconcile.Result{}, nil }
	if _, err := FrameWith(ctx, c, lag, stale.DeepCopy(), netv1alpha1.ServerlessServiceConditions, t0, work); err != nil || ran {
		t.Errorf("reconcile of the replaced copy: ran=%v err=%v, want skipped", ran, err)
	}
	if _, err := Frame(ctx, c, stale.DeepCopy(), netv1alpha1.ServerlessServiceConditions, t0, work); err != nil || !ran {
		t.Errorf("untracked reconcile of the replaced copy: ran=%v err=%v, want it to run", ran, err)
	}
	ran = false
	if _, err := FrameWith(ctx, c, lag, get(t, c, "a"), netv1alpha1.ServerlessServiceConditions, t0, work); err != nil || !ran {
		t.Errorf("reconcile of the current copy: ran=%v err=%v, want it to run", ran, err)
	}
}

// The status write replaces the status alone, with no resourceVersion: a metadata write by
// someone else since our read (the labeler's annotations) does not make it fail with a
// conflict, and what is stored is exactly the status we computed, as an update would store it.
func TestUpdateStatus_ReplacesStatusOnlyWithoutPrecondition(t *testing.T) {
	ctx := context.Background()
	var body []byte
	c := newFakeClient(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
		body, _ = patch.Data(obj)
		return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
	}}, sks("a"))
	before := get(t, c, "a")
	// Since our read: someone annotated the object, and a status field was set that our
	// computation no longer has.
	other := before.DeepCopy()
	other.Annotations = map[string]string{"someone": "else"}
	if err := c.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Status.PrivateServiceName = "stale"
	if err := c.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	after := before.DeepCopy()
	after.Status.ServiceName = "a"
	if err := UpdateStatus(ctx, c, before, after); err != nil {
		t.Fatalf("UpdateStatus over a newer object: %v", err)
	}
	var ops []map[string]any
	if err := json.Unmarshal(body, &ops); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0]["path"] != "/status" {
		t.Errorf("patch = %s, want one operation on /status", body)
	}
	got := get(t, c, "a")
	if got.Status.ServiceName != "a" || got.Status.PrivateServiceName != "" || got.Annotations["someone"] != "else" {
		t.Errorf("stored = status %+v annotations %v, want exactly our status and their annotation", got.Status, got.Annotations)
	}
}

// lagging hides objects from Get until released, like an informer cache behind the API server.
type lagging struct{ hidden atomic.Bool }

func (l *lagging) funcs() interceptor.Funcs {
	return interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if l.hidden.Load() {
			return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
		}
		return c.Get(ctx, key, obj, opts...)
	}}
}

func TestGetChild_PendingBetweenOurCreateAndTheCacheShowingIt(t *testing.T) {
	ctx := context.Background()
	lag := &lagging{}
	c := newFakeClient(lag.funcs())
	l := &CacheLag{}
	key := client.ObjectKey{Namespace: "ns", Name: "a"}
	lag.hidden.Store(true)
	if pending, err := l.GetChild(ctx, c, t0, key, &netv1alpha1.ServerlessService{}); pending || !apierrors.IsNotFound(err) {
		t.Fatalf("before any create: pending=%v err=%v, want NotFound", pending, err)
	}
	if err := l.CreateChild(ctx, c, t0, sks("a")); err != nil {
		t.Fatal(err)
	}
	if pending, err := l.GetChild(ctx, c, t0.Add(time.Second), key, &netv1alpha1.ServerlessService{}); !pending || err != nil {
		t.Errorf("cache behind our create: pending=%v err=%v, want pending", pending, err)
	}
	lag.hidden.Store(false)
	if pending, err := l.GetChild(ctx, c, t0.Add(time.Second), key, &netv1alpha1.ServerlessService{}); pending || err != nil {
		t.Errorf("cache caught up: pending=%v err=%v, want found", pending, err)
	}
	// Seen once, a later NotFound means the child was deleted: it must be created again.
	if err := c.Delete(ctx, sks("a")); err != nil {
		t.Fatal(err)
	}
	if pending, err := l.GetChild(ctx, c, t0.Add(time.Second), key, &netv1alpha1.ServerlessService{}); pending || !apierrors.IsNotFound(err) {
		t.Errorf("after delete: pending=%v err=%v, want NotFound", pending, err)
	}
}

func TestGetChild_ExpectationExpires(t *testing.T) { // a child deleted before the cache saw it
	ctx := context.Background()
	lag := &lagging{}
	c := newFakeClient(lag.funcs())
	l := &CacheLag{}
	lag.hidden.Store(true)
	if err := l.CreateChild(ctx, c, t0, sks("a")); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: "ns", Name: "a"}
	if pending, err := l.GetChild(ctx, c, t0.Add(createExpiry+time.Second), key, &netv1alpha1.ServerlessService{}); pending || !apierrors.IsNotFound(err) {
		t.Errorf("after %s: pending=%v err=%v, want NotFound", createExpiry, pending, err)
	}
}

func TestReplaceSpec_OverwritesSpecOverAStaleCopy(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(interceptor.Funcs{}, sks("a"))
	stale := get(t, c, "a")
	fresh := stale.DeepCopy()
	fresh.Status.PrivateServiceName = "a-private"
	if err := c.Status().Update(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	want := netv1alpha1.ServerlessServiceSpec{Mode: netv1alpha1.SKSOperationModeServe, NumActivators: 3}
	if err := ReplaceSpec(ctx, c, stale, want); err != nil {
		t.Fatalf("ReplaceSpec from a stale copy: %v", err)
	}
	got := get(t, c, "a")
	if got.Spec != want || got.Status.PrivateServiceName != "a-private" {
		t.Errorf("stored spec %+v status %+v, want spec %+v and the status kept", got.Spec, got.Status, want)
	}
}

func TestConcurrently_RunsTogetherAndJoinsErrors(t *testing.T) {
	// Each function waits for the other: run one after the other, they would time out.
	a, b := make(chan struct{}), make(chan struct{})
	wait := func(ch <-chan struct{}) error {
		select {
		case <-ch:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("not run concurrently")
		}
	}
	errA, errB := errors.New("a"), errors.New("b")
	err := Concurrently(
		func() error { close(a); _ = wait(b); return errA },
		nil, // a write that turned out unnecessary
		func() error { close(b); _ = wait(a); return errB },
	)
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Concurrently = %v, want both errors", err)
	}
	if err := Concurrently(); err != nil {
		t.Errorf("Concurrently() = %v, want nil", err)
	}
}

// A conflict from a child's write (our cache was behind) is retried shortly, not reported as a
// reconciler error; other errors still are.
func TestFrame_RequeuesQuietlyOnConflict(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(interceptor.Funcs{}, sks("a"))
	conflict := func(duck.ConditionManager) (reconcile.Result, error) {
		return reconcile.Result{}, apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "a-private", errors.New("modified"))
	}
	res, err := Frame(ctx, c, get(t, c, "a"), netv1alpha1.ServerlessServiceConditions, t0, conflict)
	if err != nil || res.RequeueAfter <= 0 {
		t.Errorf("Frame after a conflict = %+v, %v; want a requeue and no error", res, err)
	}
	boom := errors.New("boom")
	if _, err := Frame(ctx, c, get(t, c, "a"), netv1alpha1.ServerlessServiceConditions, t0,
		func(duck.ConditionManager) (reconcile.Result, error) { return reconcile.Result{}, boom }); !errors.Is(err, boom) {
		t.Errorf("Frame after another error = %v, want it returned", err)
	}
}
