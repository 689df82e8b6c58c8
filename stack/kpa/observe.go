package kpa

import (
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/autoscaler"
)

// ObservationKind says what an Observation reports.
type ObservationKind uint8

// The inputs of the pure cores an Observer sees (and the outputs of each tick).
const (
	// ObservedCollector: the revision's collector was created (New, empty windows) or its
	// MetricSpec changed.
	ObservedCollector ObservationKind = iota + 1
	// ObservedDecider: the revision's scaler was created (New, from ReadyPods ready pods) or its
	// DeciderSpec updated. PA is the PodAutoscaler the KPA read (nil when it had none).
	ObservedDecider
	// ObservedStat: Stat went into the collector, from the scraper or (FromActivator) an
	// activator.
	ObservedStat
	// ObservedTick: the scaler decided for ReadyPods ready pods; Result is Scale's outcome.
	ObservedTick
	// ObservedDrop: the revision's collector and scaler were dropped (Delete, or its Metric
	// went away before it had a decider).
	ObservedDrop
)

// Observation is one input applied to a revision's pure cores (stack/autoscaler), or one tick.
// Replaying every Observation of a revision, in the order they were observed, on a fresh
// Collector and Scaler at the same Times reproduces every tick exactly: Time is the very
// instant handed to the core, and observations of one revision are delivered in the order the
// core saw them (under the revision's lock), even where Times are not monotonic (a stat can
// land between a tick's clock read and its Scale).
type Observation struct {
	Kind ObservationKind
	// Time is the KPA clock's time the core was called with.
	Time time.Time
	// Key is the revision's PodAutoscaler (and Metric) key.
	Key types.NamespacedName
	// New marks a created collector or scaler (ObservedCollector, ObservedDecider).
	New bool
	// MetricSpec is the collector's spec (ObservedCollector).
	MetricSpec autoscaler.MetricSpec
	// DeciderSpec is the scaler's spec (ObservedDecider).
	DeciderSpec autoscaler.DeciderSpec
	// PA is the PodAutoscaler the spec came with (ObservedDecider); read-only.
	PA *autoscalingv1alpha1.PodAutoscaler
	// Stat and FromActivator describe a recorded stat (ObservedStat).
	Stat          autoscaler.Stat
	FromActivator bool
	// ReadyPods is the ready-pod input of a new scaler (ObservedDecider) or of a tick.
	ReadyPods int32
	// Result is the tick's outcome (ObservedTick).
	Result autoscaler.ScaleResult
}

// observers is a copy-on-write list of Observe callbacks: the hot paths pay one atomic load
// when nobody observes.
type observers struct {
	mu   sync.Mutex
	next int
	list atomic.Pointer[[]observer]
}

type observer struct {
	id int
	fn func(Observation)
}

// Observe calls fn with every Observation from now on, synchronously, while the revision's lock
// is held: fn must be quick and must not call the KPA. Observations of one revision come in the
// order its cores saw them; different revisions' may interleave. cancel stops the calls (it
// returns at once; a call in flight may still complete).
func (k *KPA) Observe(fn func(Observation)) (cancel func()) {
	o := &k.observers
	o.mu.Lock()
	id := o.next
	o.next++
	var cur []observer
	if p := o.list.Load(); p != nil {
		cur = *p
	}
	next := append(append([]observer(nil), cur...), observer{id: id, fn: fn})
	o.list.Store(&next)
	o.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			defer o.mu.Unlock()
			var kept []observer
			for _, ob := range *o.list.Load() {
				if ob.id != id {
					kept = append(kept, ob)
				}
			}
			o.list.Store(&kept)
		})
	}
}

// observing says whether anyone observes, so callers skip building an Observation.
func (o *observers) observing() bool {
	p := o.list.Load()
	return p != nil && len(*p) > 0
}

// observe hands ob to every observer.
func (o *observers) observe(ob Observation) {
	p := o.list.Load()
	if p == nil {
		return
	}
	for _, x := range *p {
		x.fn(ob)
	}
}
