package v1alpha1

import "github.com/servingsim/servingsim/stack/apis/duck"

// GetStatus returns the shared status block.
func (pa *PodAutoscaler) GetStatus() *duck.Status { return &pa.Status.Status }

// GetStatus returns the shared status block.
func (m *Metric) GetStatus() *duck.Status { return &m.Status }
