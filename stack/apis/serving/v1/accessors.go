package v1

import "github.com/servingsim/servingsim/stack/apis/duck"

// GetStatus returns the shared status block.
func (s *Service) GetStatus() *duck.Status { return &s.Status.Status }

// GetStatus returns the shared status block.
func (c *Configuration) GetStatus() *duck.Status { return &c.Status.Status }

// GetStatus returns the shared status block.
func (r *Revision) GetStatus() *duck.Status { return &r.Status.Status }

// GetStatus returns the shared status block.
func (r *Route) GetStatus() *duck.Status { return &r.Status.Status }
