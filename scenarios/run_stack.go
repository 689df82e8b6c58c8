package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/app"
	"github.com/servingsim/servingsim/stack/config"
	"github.com/servingsim/servingsim/stack/podruntime"
	"github.com/servingsim/servingsim/stack/queueproxy"
	"github.com/servingsim/servingsim/stack/rng"
)

// StackOptions returns the harness options that run s's spec.stack with the given seed: its
// config-* overrides, pod startup model, app model (as every pod's default), activator count
// and drain quiet period. The returned sandbox is the live pod sandbox the options use; the
// runner reads the apps' concurrency from it.
func StackOptions(s *Scenario, seed int64, logger logr.Logger) (harness.Options, *AppSandbox, error) {
	st := s.Spec.Stack
	var opts harness.Options
	so := &opts.System
	so.Seed, so.Logger = seed, logger
	so.DrainQuietPeriod = st.DrainQuietPeriod.D()
	if len(st.ConfigOverrides) > 0 {
		so.ConfigOverrides = map[string]map[string]string{}
		for cm, data := range st.ConfigOverrides {
			so.ConfigOverrides[cm] = maps.Clone(data)
		}
	}
	if st.Activators > 1 {
		so.Addresses.Activators = make([]string, st.Activators) // harness places them in its slot
	}
	var errs []error
	dist := func(name string, d Distribution) podruntime.Dist {
		v, err := d.Dist()
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.stack.podStartup.%s: %w", name, err))
		}
		return v
	}
	so.PodRuntime.Startup = podruntime.StartupModel{
		Schedule: dist("schedule", st.PodStartup.Schedule), ImagePull: dist("imagePull", st.PodStartup.ImagePull),
		ContainerStart: dist("containerStart", st.PodStartup.ContainerStart), Startup: dist("startup", st.PodStartup.Startup),
		Drain: dist("drain", st.PodStartup.Drain),
	}
	if err := errors.Join(errs...); err != nil {
		return harness.Options{}, nil, err
	}
	sb := &AppSandbox{
		Sandbox: queueproxy.NewSandbox(queueproxy.SandboxOptions{Source: rng.New(seed), DrainQuietPeriod: so.DrainQuietPeriod,
			Logger: logger.WithName("pod")}),
		defaults: appAnnotations(st.App),
	}
	so.PodRuntime.Sandbox = sb
	return opts, sb, nil
}

// appAnnotations renders an app model as the stack/app annotations of a pod.
func appAnnotations(m AppModel) map[string]string {
	out := map[string]string{}
	set := func(key, v string) {
		if v != "" {
			out[key] = v
		}
	}
	set(app.ServiceTimeKey, string(m.ServiceTime))
	if m.ErrorRate > 0 {
		set(app.ErrorRateKey, strconv.FormatFloat(float64(m.ErrorRate), 'g', -1, 64))
	}
	if m.Concurrency > 0 {
		set(app.ConcurrencyKey, strconv.Itoa(m.Concurrency))
	}
	set(app.OverflowKey, m.Overflow)
	set(app.StartupDelayKey, string(m.StartupDelay))
	if m.ResponseBytes > 0 {
		set(app.ResponseBytesKey, strconv.Itoa(m.ResponseBytes))
	}
	return out
}

// AppSandbox is the live pod sandbox (queue-proxy + app per pod) with a scenario's app model as
// every pod's default: each app annotation the pod lacks is added before the pod starts, so a
// revision's own annotations and SIM_APP_* env still win (stack/app). It reports each pod's app
// high-water mark just before the pod stops, so short-lived pods are not missed.
type AppSandbox struct {
	*queueproxy.Sandbox
	defaults map[string]string

	mu     sync.Mutex
	onStop func(pod *corev1.Pod, maxInFlight int64)
}

var _ podruntime.Sandbox = (*AppSandbox)(nil)

// Start implements podruntime.Sandbox.
func (s *AppSandbox) Start(ctx context.Context, pod *corev1.Pod) (<-chan struct{}, error) {
	if len(s.defaults) > 0 {
		pod = pod.DeepCopy()
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		for k, v := range s.defaults {
			if _, ok := pod.Annotations[k]; !ok {
				pod.Annotations[k] = v
			}
		}
	}
	return s.Sandbox.Start(ctx, pod)
}

// Stop implements podruntime.Sandbox.
func (s *AppSandbox) Stop(pod *corev1.Pod) {
	s.mu.Lock()
	hook := s.onStop
	s.mu.Unlock()
	if p, ok := s.Pod(pod.Namespace, pod.Name); ok && hook != nil {
		hook(pod, p.App.MaxInFlight())
	}
	s.Sandbox.Stop(pod)
}

func (s *AppSandbox) setOnStop(f func(pod *corev1.Pod, maxInFlight int64)) {
	s.mu.Lock()
	s.onStop = f
	s.mu.Unlock()
}

// OwnStackSettings lists the spec.stack fields of s that need a stack of their own (a running
// stack cannot take them; RunOptions.Stack refuses such a scenario): activators, podStartup,
// app and drainQuietPeriod. Config overrides and the seed are not among them.
func OwnStackSettings(s *Scenario) []string {
	st := s.Spec.Stack
	var out []string
	if st.Activators > 1 {
		out = append(out, "spec.stack.activators")
	}
	if st.PodStartup != (PodStartup{}) {
		out = append(out, "spec.stack.podStartup")
	}
	if st.App != (AppModel{}) {
		out = append(out, "spec.stack.app")
	}
	if st.DrainQuietPeriod != 0 {
		out = append(out, "spec.stack.drainQuietPeriod")
	}
	return out
}

// configChange remembers the values a run replaced in the config-* ConfigMaps of a stack it
// reuses, to put them back afterwards.
type configChange struct {
	c    client.Client
	mu   sync.Mutex
	orig map[string]map[string]*string // ConfigMap → key → old value (nil: absent)
}

func newConfigChange(c client.Client) *configChange {
	return &configChange{c: c, orig: map[string]map[string]*string{}}
}

// set merges data into ConfigMap name in knative-serving, remembering each key's first value.
func (cc *configChange) set(ctx context.Context, name string, data map[string]string) error {
	cm := &corev1.ConfigMap{}
	err := cc.c.Get(ctx, types.NamespacedName{Namespace: config.SystemNamespace, Name: name}, cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read ConfigMap %s: %w", name, err)
	}
	cc.mu.Lock()
	if cc.orig[name] == nil {
		cc.orig[name] = map[string]*string{}
	}
	for k := range data {
		if _, seen := cc.orig[name][k]; !seen {
			if v, ok := cm.Data[k]; ok {
				cc.orig[name][k] = &v
			} else {
				cc.orig[name][k] = nil
			}
		}
	}
	cc.mu.Unlock()
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{}
		cm.Namespace, cm.Name, cm.Data = config.SystemNamespace, name, maps.Clone(data)
		return cc.c.Create(ctx, cm)
	}
	values := map[string]*string{}
	for k, v := range data {
		values[k] = &v
	}
	return patchConfigMap(ctx, cc.c, name, values)
}

// restore puts back every value set replaced.
func (cc *configChange) restore(ctx context.Context) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(cc.orig)) {
		errs = append(errs, patchConfigMap(ctx, cc.c, name, cc.orig[name]))
	}
	cc.orig = map[string]map[string]*string{}
	return errors.Join(errs...)
}

// patchConfigMap merge-patches keys of a knative-serving ConfigMap; a nil value removes the key.
func patchConfigMap(ctx context.Context, c client.Client, name string, values map[string]*string) error {
	b, err := json.Marshal(map[string]any{"data": values})
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = config.SystemNamespace, name
	if err := c.Patch(ctx, cm, client.RawPatch(types.MergePatchType, b)); err != nil {
		return fmt.Errorf("patch ConfigMap %s: %w", name, err)
	}
	return nil
}

// cleanupNamespace deletes what a run created in ns of a stack that keeps running: envtest has
// no garbage collector, so every kind down to the Deployments goes explicitly (the pod runtime
// then removes the pods).
func cleanupNamespace(ctx context.Context, c client.Client, ns string) error {
	kinds := []client.Object{
		&servingv1.Service{}, &servingv1.Route{}, &servingv1.Configuration{}, &servingv1.Revision{},
		&autoscalingv1alpha1.PodAutoscaler{}, &autoscalingv1alpha1.Metric{}, &netv1alpha1.ServerlessService{},
		&netv1alpha1.Ingress{}, &appsv1.Deployment{},
	}
	var errs []error
	for _, k := range kinds {
		if err := c.DeleteAllOf(ctx, k, client.InNamespace(ns)); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %T in %s: %w", k, ns, err))
		}
	}
	return errors.Join(errs...)
}

// stackSeed is the seed of a running stack.
func stackSeed(st *harness.Stack) int64 { return st.System.Random.Seed() }
