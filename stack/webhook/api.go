package webhook

import (
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// Options is the admission context of one object.
type Options struct {
	// Config is the config-* snapshot to apply; nil means a fresh install's defaults.
	Config *config.Config
	// Old is the stored object on UPDATE (same kind as the admitted one); nil on CREATE.
	Old runtime.Object
	// User is the requester (admission userInfo.username); empty leaves creator and
	// lastModifier alone.
	User string
}

// reqCtx is Options resolved for one call, plus what the walk down the object learns.
type reqCtx struct {
	cfg    *config.Config
	update bool
	user   string
	// parent is the metadata of the object owning the revision template being checked.
	parent metav1.ObjectMeta
	// inService marks a Service's traffic: targets implicitly use the Service's Configuration.
	inService bool
}

func newReqCtx(o Options) reqCtx {
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	update := o.Old != nil && !reflect.ValueOf(o.Old).IsNil()
	return reqCtx{cfg: cfg, update: update, user: o.User}
}

// SetDefaults applies Knative's defaulting (§2.1) to a Service, Configuration, Revision, Route or
// PodAutoscaler in place. It fails only on an unsupported type or a mismatched Options.Old.
func SetDefaults(obj runtime.Object, o Options) error {
	c := newReqCtx(o)
	var fe *FieldError
	switch t := obj.(type) {
	case *servingv1.Service:
		fe = withOld(o.Old, func(old *servingv1.Service) *FieldError { defaultService(c, t, old); return nil })
	case *servingv1.Configuration:
		fe = withOld(o.Old, func(old *servingv1.Configuration) *FieldError { defaultConfiguration(c, t, old); return nil })
	case *servingv1.Revision:
		defaultRevision(c, t)
	case *servingv1.Route:
		fe = withOld(o.Old, func(old *servingv1.Route) *FieldError { defaultRoute(c, t, old); return nil })
	case *autoscalingv1alpha1.PodAutoscaler:
		defaultPodAutoscaler(t)
	default:
		return fmt.Errorf("no defaulting for %T", obj)
	}
	if fe != nil {
		return fe
	}
	return nil
}

// Validate applies Knative's validation (§2.2) to a Service, Configuration, Revision or Route and
// returns nil when the object is valid. PodAutoscalers are only defaulted, never validated.
func Validate(obj runtime.Object, o Options) *FieldError {
	c := newReqCtx(o)
	switch t := obj.(type) {
	case *servingv1.Service:
		return withOld(o.Old, func(old *servingv1.Service) *FieldError { return validateService(c, t, old) })
	case *servingv1.Configuration:
		return withOld(o.Old, func(old *servingv1.Configuration) *FieldError { return validateConfiguration(c, t, old) })
	case *servingv1.Revision:
		return withOld(o.Old, func(old *servingv1.Revision) *FieldError { return validateRevision(c, t, old) })
	case *servingv1.Route:
		return withOld(o.Old, func(old *servingv1.Route) *FieldError { return validateRoute(c, t, old) })
	}
	return errGeneric(fmt.Sprintf("no validation for %T", obj))
}

// withOld calls f with the baseline object converted to the admitted type (nil on create).
func withOld[T runtime.Object](old runtime.Object, f func(T) *FieldError) *FieldError {
	var zero T
	if old == nil || reflect.ValueOf(old).IsNil() {
		return f(zero)
	}
	t, ok := old.(T)
	if !ok {
		return errGeneric(fmt.Sprintf("old object is %T, want %T", old, zero))
	}
	return f(t)
}
