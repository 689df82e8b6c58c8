package activator

import (
	"net/netip"
	"slices"
	"strings"
)

// compareIPs orders addresses numerically (10.0.0.9 before 10.0.0.10); strings that are not
// IPs sort after every IP, lexically. Knative sorts "ip:port" strings; any order that every
// activator shares gives the same partition.
func compareIPs(a, b string) int {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return pa.Compare(pb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// SortIPs returns the distinct addresses of ips in IP order.
func SortIPs(ips []string) []string {
	out := slices.Clone(ips)
	slices.SortFunc(out, compareIPs)
	return slices.Compact(out)
}

// AssignPods is this activator's share of a revision's pods (§4 Assignment of pods to
// activators, Knative's assignSlice). pods must be sorted by IP (SortIPs). Activator index of
// count takes the slice [index·⌊P/A⌋, +⌊P/A⌋); the P mod A remainder pods at the end go one
// each to activators 0..r−1; with more activators than pods, activator i takes pod i mod P.
// An unknown index (−1), a single activator or an index out of range takes all pods. Pods
// owned by other activators are invisible here, which is why a request can queue behind a
// busy pod while another activator's pod idles (#13331).
func AssignPods[T any](pods []T, index, count int) []T {
	p := len(pods)
	if index < 0 || count <= 1 || index >= count || p == 0 {
		return pods
	}
	if count > p {
		return []T{pods[index%p]}
	}
	size := p / count
	begin := index * size
	out := make([]T, 0, size+1)
	out = append(out, pods[begin:begin+size]...)
	if r := p % count; index < r {
		out = append(out, pods[p-r+index])
	}
	return out
}

// ActivatorPosition finds this activator in the ready addresses of a revision's public
// Endpoints (§4): its index in IP order and the number of activators. ok is false when self
// is not among them — the revision is in Serve mode or another activator subset backs it — and
// Knative then keeps the previous index and count.
func ActivatorPosition(publicIPs []string, self string) (index, count int, ok bool) {
	sorted := SortIPs(publicIPs)
	i := slices.Index(sorted, self)
	if i < 0 {
		return -1, 0, false
	}
	return i, len(sorted), true
}
