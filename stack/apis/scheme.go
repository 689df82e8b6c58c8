package apis

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	networkingv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// AddToScheme adds Knative's groups and the Kubernetes built-ins to s.
func AddToScheme(s *runtime.Scheme) error {
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, servingv1.AddToScheme, autoscalingv1alpha1.AddToScheme, networkingv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return err
		}
	}
	return nil
}

// NewScheme returns a scheme with every group servingsim uses.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(AddToScheme(s))
	return s
}
