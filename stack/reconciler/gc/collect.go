package gc

import (
	"sort"
	"strings"
	"time"

	"github.com/servingsim/servingsim/stack/apis/serving"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
	"github.com/servingsim/servingsim/stack/config"
)

// IsActive reports whether rev is exempt from collection (§1.9): it is the Configuration's
// latest ready Revision, it carries serving.knative.dev/no-gc: "true", or the labeler has not
// marked it reserve.
func IsActive(rev *servingv1.Revision, latestReady string) bool {
	return rev.Name == latestReady ||
		strings.EqualFold(rev.Annotations[serving.NoGCAnnotationKey], "true") ||
		rev.Labels[serving.RoutingStateLabelKey] != serving.RoutingStateReserve
}

// LastActive is when rev was last routed to: routingStateModified, else its creation time.
func LastActive(rev *servingv1.Revision) time.Time {
	if v := rev.Annotations[serving.RoutingStateModifiedAnnotationKey]; v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return rev.CreationTimestamp.Time
}

// staleAt is when rev becomes stale: older than both enabled retention windows. ok is false when
// both windows are disabled (never stale).
func staleAt(rev *servingv1.Revision, cfg *config.GC) (t time.Time, ok bool) {
	if cfg.RetainSinceCreateTime == config.Disabled && cfg.RetainSinceLastActiveTime == config.Disabled {
		return time.Time{}, false
	}
	if cfg.RetainSinceCreateTime != config.Disabled {
		t = rev.CreationTimestamp.Add(cfg.RetainSinceCreateTime)
	}
	if cfg.RetainSinceLastActiveTime != config.Disabled {
		if a := LastActive(rev).Add(cfg.RetainSinceLastActiveTime); a.After(t) {
			t = a
		}
	}
	return t, true
}

// Selection is what one GC pass decides for a Configuration.
type Selection struct {
	// Delete lists the Revisions to delete, oldest last-active first.
	Delete []*servingv1.Revision
	// RecheckAfter > 0 is when a kept non-active Revision turns stale and the pass should rerun.
	RecheckAfter time.Duration
}

// Select applies §1.9 to the Revisions of one Configuration at now: with more than min
// Revisions in total, non-active ones are taken oldest last-active first; stale ones are deleted
// while more than min non-active remain; then the oldest are deleted until at most max remain
// (max "disabled" means no cap). With every knob that deletes disabled nothing happens.
func Select(revs []*servingv1.Revision, latestReady string, cfg *config.GC, now time.Time) Selection {
	minKeep, maxKeep := int(cfg.MinNonActiveRevisions), int(cfg.MaxNonActiveRevisions)
	if maxKeep == config.Disabled && cfg.RetainSinceCreateTime == config.Disabled && cfg.RetainSinceLastActiveTime == config.Disabled {
		return Selection{}
	}
	if len(revs) <= minKeep {
		return Selection{}
	}
	var nonActive []*servingv1.Revision
	for _, r := range revs {
		if !IsActive(r, latestReady) {
			nonActive = append(nonActive, r)
		}
	}
	sort.SliceStable(nonActive, func(i, j int) bool {
		a, b := LastActive(nonActive[i]), LastActive(nonActive[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return nonActive[i].Name < nonActive[j].Name
	})

	var sel Selection
	kept := make([]*servingv1.Revision, 0, len(nonActive))
	for _, r := range nonActive {
		if t, ok := staleAt(r, cfg); ok && !now.Before(t) && len(nonActive)-len(sel.Delete) > minKeep {
			sel.Delete = append(sel.Delete, r)
			continue
		}
		kept = append(kept, r)
	}
	if maxKeep != config.Disabled && len(kept) > maxKeep {
		sel.Delete = append(sel.Delete, kept[:len(kept)-maxKeep]...)
		kept = kept[len(kept)-maxKeep:]
	}
	// While more than min non-active remain, the next one to turn stale is worth a look then.
	if len(kept) > minKeep {
		for _, r := range kept {
			if t, ok := staleAt(r, cfg); ok && now.Before(t) && (sel.RecheckAfter == 0 || t.Sub(now) < sel.RecheckAfter) {
				sel.RecheckAfter = t.Sub(now)
			}
		}
	}
	return sel
}
