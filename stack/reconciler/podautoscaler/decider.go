package podautoscaler

import (
	"context"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/autoscaler"
)

// Decider is the autoscaler as the PA reconciler sees it. Update creates or refreshes the
// decider of key with spec and returns its latest decision; Delete forgets key once its PA is
// gone. A decider that ticks on its own (the KPA) asks for a PA reconcile through a Trigger
// when its decision changes (§3.4: a new desired scale or a flip of the EBC sign).
type Decider interface {
	Update(ctx context.Context, key types.NamespacedName, spec autoscaler.DeciderSpec) (autoscaler.Decision, error)
	Delete(key types.NamespacedName)
}

// StaticDecider never autoscales: every PA gets the initial decision of §3.4 (desired scale -1,
// EBC from TBC), so pods stay at initial-scale/min-scale and the SKS stays in Proxy mode. It
// stands in until the KPA decider is plugged in.
type StaticDecider struct{}

var _ Decider = StaticDecider{}

// Update returns autoscaler.InitialDecision(spec).
func (StaticDecider) Update(_ context.Context, _ types.NamespacedName, spec autoscaler.DeciderSpec) (autoscaler.Decision, error) {
	return autoscaler.InitialDecision(spec), nil
}

// Delete does nothing: a StaticDecider keeps no state.
func (StaticDecider) Delete(types.NamespacedName) {}
