package duck

// Object is implemented by every Knative kind, so generic code (waiters, reports, kubectl-like
// printers) can read conditions without knowing the kind.
// +kubebuilder:object:generate=false
type Object interface {
	GetStatus() *Status
}
