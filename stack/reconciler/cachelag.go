package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// maxTracked bounds each map of a CacheLag. Forgetting entries only costs the optimisation,
	// so on overflow a map is cleared.
	maxTracked = 1 << 16
	// createExpiry is how long a create we issued may stay unseen in the cache before we stop
	// counting on it (the ReplicaSet controller's expectations time out the same way), so a
	// child deleted before the cache ever showed it is still recreated.
	createExpiry = 30 * time.Second
)

// CacheLag remembers what one reconciler wrote that its informer cache may not show yet: the
// cache trails the reconciler's own writes by a watch round trip. With it a reconcile racing
// the watch neither rewrites a status from the copy that write replaced (FrameWith) nor creates
// a child again (GetChild, CreateChild: a 409, and for a ClusterIP Service an address allocated
// and released for nothing). Each reconciler keeps its own, as a field: the zero value is ready,
// a nil *CacheLag tracks nothing, and it must not be copied after first use.
type CacheLag struct {
	mu sync.Mutex
	// replaced maps an object to the resourceVersion our latest status write replaced.
	replaced map[types.UID]string
	// created maps a child we created to when, until the cache shows it.
	created map[childKey]time.Time
}

type childKey struct {
	kind      reflect.Type
	namespace string
	name      string
}

// wroteStatus records a status write that moved uid from resourceVersion base to now. A write
// the API server found to be a no-op keeps the resourceVersion and sends no watch event: there
// is nothing to wait for.
func (l *CacheLag) wroteStatus(uid types.UID, base, now string) {
	if l == nil || uid == "" || base == "" || base == now {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.replaced == nil || len(l.replaced) >= maxTracked {
		l.replaced = map[types.UID]string{}
	}
	l.replaced[uid] = base
}

// staleStatus reports whether a cached copy at resourceVersion rv predates our latest status
// write of uid. A copy at any other version means the cache caught up (or someone else wrote
// since), so the entry is dropped.
func (l *CacheLag) staleStatus(uid types.UID, rv string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	base, ok := l.replaced[uid]
	if !ok {
		return false
	}
	if base == rv {
		return true
	}
	delete(l.replaced, uid)
	return false
}

// GetChild reads a child from c's cache like c.Get. When the cache does not have it but we
// created it within createExpiry, pending is true and err nil: the child exists, the watch
// event that shows it (and re-triggers the owner) is on its way, and it must not be created
// again. obj is then left as it was.
func (l *CacheLag) GetChild(ctx context.Context, c client.Reader, now time.Time, key client.ObjectKey, obj client.Object) (pending bool, err error) {
	err = c.Get(ctx, key, obj)
	if l == nil || (err != nil && !apierrors.IsNotFound(err)) {
		return false, err
	}
	k := childKey{kind: reflect.TypeOf(obj), namespace: key.Namespace, name: key.Name}
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.created[k]
	if !ok {
		return false, err
	}
	if err == nil || now.Sub(at) > createExpiry {
		delete(l.created, k)
		return false, err
	}
	return true, nil
}

// CreateChild creates obj and, once the API server accepted it, remembers it for GetChild.
func (l *CacheLag) CreateChild(ctx context.Context, c client.Writer, now time.Time, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil {
		return err
	}
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.created == nil || len(l.created) >= maxTracked {
		l.created = map[childKey]time.Time{}
	}
	l.created[childKey{kind: reflect.TypeOf(obj), namespace: obj.GetNamespace(), name: obj.GetName()}] = now
	return nil
}

// ReplaceSpec overwrites obj's whole spec with spec (a JSON patch replacing /spec), with no
// resourceVersion precondition. It is for a child whose spec only one reconciler writes (a
// PodAutoscaler's SKS): an update would fail whenever the child's own reconciler had written
// its status since our cache read, only for the retry to write the same spec. obj receives the
// stored object.
func ReplaceSpec(ctx context.Context, c client.Writer, obj client.Object, spec any) error {
	patch, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/spec", "value": spec}})
	if err != nil {
		return fmt.Errorf("marshal spec of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return c.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch))
}
