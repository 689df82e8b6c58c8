package autoscaler

import "math"

// ScaleUnknown is the desired scale of a decider that has no data yet.
const ScaleUnknown int32 = -1

// Decision is what a decider reports for one revision (§3.4).
type Decision struct {
	// DesiredScale is the number of pods wanted; ScaleUnknown (-1) before any metric arrived.
	DesiredScale int32
	// ExcessBurstCapacity is the spare capacity beyond the target burst capacity; negative
	// means the activator must stay in the request path (SKS Proxy mode).
	ExcessBurstCapacity int32
}

// InitialDecision is the decision of a new decider before its first tick (§3.4): DesiredScale -1
// and an EBC of TBC when TBC is -1 or 0, else InitialScale × total − TBC. With the defaults
// (1 × 100 − 211) that is −111, so a new revision starts in Proxy mode.
func InitialDecision(spec DeciderSpec) Decision {
	ebc := spec.TargetBurstCapacity
	if ebc != -1 && ebc != 0 {
		ebc = float64(spec.InitialScale)*spec.TotalValue - spec.TargetBurstCapacity
	}
	return Decision{DesiredScale: ScaleUnknown, ExcessBurstCapacity: int32(math.Floor(ebc))}
}
