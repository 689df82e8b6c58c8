//nolint:staticcheck // Knative reads and writes core/v1 Endpoints (§3.6); the pod runtime keeps them.
package resources

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"

	corev1 "k8s.io/api/core/v1"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
)

// ReadyAddressCount is the number of ready addresses across subsets.
func ReadyAddressCount(subsets []corev1.EndpointSubset) int {
	n := 0
	for _, ss := range subsets {
		n += len(ss.Addresses)
	}
	return n
}

// ChooseSubset picks n of the candidate IPs for target by rendezvous (highest-random-weight)
// hashing: each candidate scores sha256(target, ip) and the n highest win. The choice depends
// only on the inputs, spreads revisions evenly over activators, and moves few revisions when an
// activator comes or goes. n ≤ 0 or n ≥ len(candidates) chooses all.
func ChooseSubset(candidates []string, n int, target string) map[string]struct{} {
	out := make(map[string]struct{}, len(candidates))
	if n <= 0 || n >= len(candidates) {
		for _, c := range candidates {
			out[c] = struct{}{}
		}
		return out
	}
	type scored struct {
		ip    string
		score uint64
	}
	all := make([]scored, 0, len(candidates))
	for _, ip := range candidates {
		sum := sha256.Sum256([]byte(target + "\x00" + ip))
		all = append(all, scored{ip: ip, score: binary.BigEndian.Uint64(sum[:8])})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].ip < all[j].ip
	})
	for _, s := range all[:n] {
		out[s.ip] = struct{}{}
	}
	return out
}

// SubsetEndpoints keeps only the ready addresses of n activators chosen for target by
// ChooseSubset, dropping subsets left empty (§3.6). n = 0 keeps all.
func SubsetEndpoints(subsets []corev1.EndpointSubset, target string, n int) []corev1.EndpointSubset {
	var ips []string
	seen := map[string]bool{}
	for _, ss := range subsets {
		for _, a := range ss.Addresses {
			if !seen[a.IP] {
				seen[a.IP] = true
				ips = append(ips, a.IP)
			}
		}
	}
	if n <= 0 || len(ips) <= n {
		return subsets
	}
	chosen := ChooseSubset(ips, n, target)
	out := make([]corev1.EndpointSubset, 0, len(subsets))
	for _, ss := range subsets {
		ss = *ss.DeepCopy()
		kept := ss.Addresses[:0]
		for _, a := range ss.Addresses {
			if _, ok := chosen[a.IP]; ok {
				kept = append(kept, a)
			}
		}
		if len(kept) == 0 {
			continue
		}
		ss.Addresses = kept
		out = append(out, ss)
	}
	return out
}

// PublicSubsets adapts source subsets (the private Service's or the activator's Endpoints) to
// the public Service: only the serving port (8012, or 8013 for h2c) and the TLS port 8112 are
// kept, renamed to the public Service's port names so the selector-less Service maps onto them.
// Subsets left without addresses are dropped.
func PublicSubsets(sks *netv1alpha1.ServerlessService, src []corev1.EndpointSubset) []corev1.EndpointSubset {
	names := map[int32]string{TargetPort(sks): ServicePortName(sks), serving.QueueHTTPSPort: serving.ServicePortNameHTTPS}
	out := make([]corev1.EndpointSubset, 0, len(src))
	for _, ss := range src {
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			continue
		}
		ns := corev1.EndpointSubset{
			Addresses:         append([]corev1.EndpointAddress(nil), ss.Addresses...),
			NotReadyAddresses: append([]corev1.EndpointAddress(nil), ss.NotReadyAddresses...),
		}
		done := map[string]bool{}
		for _, p := range ss.Ports {
			name, ok := names[p.Port]
			if !ok || done[name] {
				continue
			}
			done[name] = true
			ns.Ports = append(ns.Ports, corev1.EndpointPort{Name: name, Port: p.Port, Protocol: corev1.ProtocolTCP})
		}
		sort.Slice(ns.Ports, func(i, j int) bool { return ns.Ports[i].Port < ns.Ports[j].Port })
		out = append(out, ns)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
