package v1alpha1

import "github.com/servingsim/servingsim/stack/apis/duck"

// GetStatus returns the shared status block.
func (i *Ingress) GetStatus() *duck.Status { return &i.Status.Status }

// GetStatus returns the shared status block.
func (s *ServerlessService) GetStatus() *duck.Status { return &s.Status.Status }
