package recording

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/kpa"
)

// ConfigNames are the ConfigMaps a recording holds: the autoscaler's and the deployment's.
var ConfigNames = []string{config.AutoscalerConfigName, config.DeploymentConfigName}

// LiveOptions attach a Recorder to a running stack.
type LiveOptions struct {
	// Header carries the scenario, seed and mode; Namespace (required) is the run's namespace.
	// Start and Config are filled in.
	Header Header
	// Clock stamps t = 0 and the object and pod records; the KPA stamps its own. Default: real.
	Clock clock.PassiveClock
	// KPA is observed for every collector, decider, stat and tick of the namespace; nil records
	// none.
	KPA *kpa.KPA
	// Informers (the manager's cache) deliver ConfigMap, PodAutoscaler and Pod changes.
	Informers cache.Informers
	// Reader reads the config-* ConfigMaps in force at t = 0.
	Reader client.Reader
}

// StartLive starts recording: t = 0 is now, the header gets the current config-autoscaler and
// config-deployment data, and from now on the KPA's observations, config and PA changes and pod
// events of the namespace are recorded. Call Stop when the run is over, then Write. Start it
// before the namespace's revisions exist: a replay needs each revision's collector and decider
// from their creation.
func StartLive(ctx context.Context, o LiveOptions) (*Recorder, error) {
	if o.Header.Namespace == "" {
		return nil, fmt.Errorf("recording: no namespace")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	h := o.Header
	h.Start = o.Clock.Now()
	h.Config = map[string]map[string]string{}
	if o.Reader != nil {
		for _, name := range ConfigNames {
			cm := &corev1.ConfigMap{}
			err := o.Reader.Get(ctx, types.NamespacedName{Namespace: config.SystemNamespace, Name: name}, cm)
			switch {
			case err == nil:
				h.Config[name] = cm.Data
			case !apierrors.IsNotFound(err):
				return nil, fmt.Errorf("recording: read ConfigMap %s: %w", name, err)
			}
		}
	}
	r := NewRecorder(h, o.Clock)
	if o.KPA != nil {
		r.stops = append(r.stops, o.KPA.Observe(r.Observe))
	}
	if o.Informers == nil {
		return r, nil
	}
	stop, err := Watch(ctx, o.Informers, []Handler{
		{Obj: &corev1.ConfigMap{}, On: r.onConfigMap},
		{Obj: &autoscalingv1alpha1.PodAutoscaler{}, On: r.onPA},
		{Obj: &corev1.Pod{}, On: r.onPod},
	})
	if err != nil {
		r.Stop()
		return nil, fmt.Errorf("recording: %w", err)
	}
	r.mu.Lock()
	r.stops = append(r.stops, stop)
	r.mu.Unlock()
	return r, nil
}

// Handler is called with every add, update (the new state) and delete of Obj's kind.
type Handler struct {
	Obj client.Object
	On  func(obj any, deleted bool)
}

// Watch adds each handler to its kind's informer; stop removes them all. On an error, the
// handlers added so far are removed.
func Watch(ctx context.Context, informers cache.Informers, handlers []Handler) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for _, h := range handlers {
		inf, err := informers.GetInformer(ctx, h.Obj)
		if err != nil {
			stop()
			return nil, fmt.Errorf("watch %T: %w", h.Obj, err)
		}
		on := h.On
		reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { on(o, false) },
			UpdateFunc: func(_, o any) { on(o, false) },
			DeleteFunc: func(o any) { on(o, true) },
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("watch %T: %w", h.Obj, err)
		}
		stops = append(stops, func() { _ = inf.RemoveEventHandler(reg) })
	}
	return stop, nil
}

// unwrap returns the object of an informer event, tombstones unwrapped.
func unwrap(o any) client.Object {
	if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	co, _ := o.(client.Object)
	return co
}

func (r *Recorder) onConfigMap(o any, deleted bool) {
	cm, ok := unwrap(o).(*corev1.ConfigMap)
	if !ok || cm.Namespace != config.SystemNamespace || !slices.Contains(ConfigNames, cm.Name) {
		return
	}
	data := cm.Data
	if deleted {
		data = nil
	}
	r.Config(cm.Name, data)
}

func (r *Recorder) onPA(o any, deleted bool) {
	pa, ok := unwrap(o).(*autoscalingv1alpha1.PodAutoscaler)
	if !ok || deleted || (r.ns != "" && pa.Namespace != r.ns) {
		return
	}
	r.PA(pa.Name, PAInputsOf(pa))
}

func (r *Recorder) onPod(o any, deleted bool) {
	pod, ok := unwrap(o).(*corev1.Pod)
	if !ok || (r.ns != "" && pod.Namespace != r.ns) {
		return
	}
	rev := pod.Labels[serving.RevisionLabelKey]
	if rev == "" {
		return
	}
	ready := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	r.Pod(rev, pod.Name, ready, pod.DeletionTimestamp != nil, deleted)
}
