package podruntime

import (
	"errors"
	"net/netip"
	"sync"
)

// Pod addresses. Every pod gets its own loopback address, so its sandbox (queue-proxy and app)
// can listen on the real pod IP with no network setup: 127.10.0.1 … 127.10.255.254, then
// 127.11.0.1 …, up to 127.255.255.254 (the .0.0 and .255.255 of each /16 are skipped).
var (
	FirstPodIP = netip.AddrFrom4([4]byte{127, 10, 0, 1})
	LastPodIP  = netip.AddrFrom4([4]byte{127, 255, 255, 254})
)

// NodeIP is the simulated node's InternalIP and every pod's hostIP.
var NodeIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// errExhausted is returned when every address is taken.
var errExhausted = errors.New("pod IP range exhausted")

// ipAllocator hands out pod IPs: never-used addresses first in ascending order, then addresses
// freed by pods that are gone, oldest-freed first. Safe for concurrent use.
type ipAllocator struct {
	mu         sync.Mutex
	next, last uint32
	used       map[uint32]struct{}
	free       []uint32 // FIFO of released addresses
	freeHead   int
	freeQueued map[uint32]struct{}
	first      uint32
}

func newIPAllocator(first, last netip.Addr) *ipAllocator {
	return &ipAllocator{next: toU32(first), first: toU32(first), last: toU32(last), used: map[uint32]struct{}{},
		freeQueued: map[uint32]struct{}{}}
}

func toU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromU32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// special reports the .0.0 and .255.255 of a /16.
func special(v uint32) bool { return v&0xffff == 0 || v&0xffff == 0xffff }

// Allocate returns a free address.
func (a *ipAllocator) Allocate() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.next != 0 && a.next <= a.last {
		v := a.next
		a.next++
		if a.next == 0 { // wrapped past 255.255.255.255
			a.next = a.last + 1
		}
		if special(v) {
			continue
		}
		if _, taken := a.used[v]; taken {
			continue
		}
		a.used[v] = struct{}{}
		return fromU32(v), nil
	}
	for a.freeHead < len(a.free) {
		v := a.free[a.freeHead]
		a.freeHead++
		delete(a.freeQueued, v)
		if _, taken := a.used[v]; taken {
			continue // reserved again since it was freed
		}
		a.used[v] = struct{}{}
		a.compact()
		return fromU32(v), nil
	}
	return netip.Addr{}, errExhausted
}

// Reserve marks ip as taken (a pod that already has it, seen after a restart). It reports
// whether ip is in range and was free.
func (a *ipAllocator) Reserve(ip netip.Addr) bool {
	if !ip.Is4() {
		return false
	}
	v := toU32(ip)
	a.mu.Lock()
	defer a.mu.Unlock()
	if v < a.first || v > a.last {
		return false
	}
	if _, taken := a.used[v]; taken {
		return false
	}
	a.used[v] = struct{}{}
	return true
}

// Release frees ip for reuse. Call it only once the pod holding it is gone.
func (a *ipAllocator) Release(ip netip.Addr) {
	if !ip.Is4() {
		return
	}
	v := toU32(ip)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, taken := a.used[v]; !taken {
		return
	}
	delete(a.used, v)
	if v >= a.next && a.next <= a.last {
		return // still ahead of the cursor: it will be handed out in order
	}
	if _, q := a.freeQueued[v]; !q {
		a.freeQueued[v] = struct{}{}
		a.free = append(a.free, v)
	}
}

// InUse returns how many addresses are allocated.
func (a *ipAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.used)
}

func (a *ipAllocator) compact() {
	if a.freeHead > 1024 && a.freeHead*2 > len(a.free) {
		a.free = append([]uint32(nil), a.free[a.freeHead:]...)
		a.freeHead = 0
	}
}

// The API server refuses loopback addresses in Endpoints and EndpointSlices ("may not be in the
// loopback range (127.0.0.0/8, ::1/128)", ValidateEndpointIP). So a pod's loopback IP is
// published there under a stand-in from 10.0.0.0/8 with the same last three octets:
// 127.a.b.c ↔ 10.a.b.c. Consumers of Endpoints and EndpointSlices (SKS, activator, autoscaler,
// gateway) translate back with PodIP before dialing; TargetRef names the pod as usual.

// EndpointIP returns the address under which a pod IP appears in Endpoints and EndpointSlices:
// 127.a.b.c becomes 10.a.b.c; any other address is returned unchanged.
func EndpointIP(podIP string) string {
	a, err := netip.ParseAddr(podIP)
	if err != nil || !a.Is4() {
		return podIP
	}
	b := a.As4()
	if b[0] != 127 {
		return podIP
	}
	b[0] = 10
	return netip.AddrFrom4(b).String()
}

// PodIP reverses EndpointIP: 10.a.b.c becomes the loopback address 127.a.b.c to dial; any
// other address is returned unchanged.
func PodIP(endpointIP string) string {
	a, err := netip.ParseAddr(endpointIP)
	if err != nil || !a.Is4() {
		return endpointIP
	}
	b := a.As4()
	if b[0] != 10 {
		return endpointIP
	}
	b[0] = 127
	return netip.AddrFrom4(b).String()
}
