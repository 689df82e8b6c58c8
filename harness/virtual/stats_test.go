package virtual

import (
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/servingsim/servingsim/stack/activator"
	"github.com/servingsim/servingsim/stack/rng"
)

// The engine's per-activator bookkeeping around activator.RevisionStats reports exactly what
// activator.ConcurrencyReporter reports: the immediate first-request stats, the per-period
// stats in revision order, and forgetting idle revisions (§3.3.3).
func TestActivatorStats_ReportLikeConcurrencyReporter_Section3_3_3(t *testing.T) {
	r := rng.New(4).Stream("test")
	live := activator.NewConcurrencyReporter("activator-0")
	a := &activatorState{name: "activator-0"}
	var throttles []*throttle
	for i := range 12 {
		// Creation order differs from name order, as revisions of many services do.
		name := "svc-" + strconv.Itoa((i*7)%12) + "-00001"
		throttles = append(throttles, &throttle{rev: &revision{key: types.NamespacedName{Namespace: "default", Name: name}}, act: a})
	}
	inFlight := make([]int, len(throttles))
	now, periods, immediate := time.Duration(0), 0, 0
	for range 30000 {
		now += time.Duration(r.IntN(int(50 * time.Millisecond)))
		k := r.IntN(len(throttles))
		th := throttles[k]
		switch op := r.IntN(20); {
		case op < 9:
			want, wantFirst := live.In(epoch.Add(now), th.rev.key)
			got, gotFirst := a.reportIn(now, th)
			if got != want || gotFirst != wantFirst {
				t.Fatalf("In at %s for %s: engine %+v %v, reporter %+v %v", now, th.rev.key.Name, got, gotFirst, want, wantFirst)
			}
			if gotFirst {
				immediate++
			}
			inFlight[k]++
		case op < 18 && inFlight[k] > 0:
			live.Out(epoch.Add(now), th.rev.key)
			a.reportOut(now, th)
			inFlight[k]--
		case op >= 18:
			want := live.Report(epoch.Add(now))
			got := a.report(now)
			if len(got) != len(want) {
				t.Fatalf("period %d: engine reports %d revisions, reporter %d", periods, len(got), len(want))
			}
			for i := range want {
				if got[i].rev.key != want[i].Revision || got[i].stat != want[i].Stat {
					t.Fatalf("period %d, stat %d: engine %s %+v, reporter %s %+v", periods, i, got[i].rev.key, got[i].stat, want[i].Revision, want[i].Stat)
				}
			}
			periods++
		}
	}
	if periods < 500 || immediate < 100 {
		t.Fatalf("only %d periods and %d immediate stats compared", periods, immediate)
	}
}
