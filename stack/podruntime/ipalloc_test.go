package podruntime

import (
	"net/netip"
	"testing"
)

func TestIPAllocator_SequentialFromFirstPodIP(t *testing.T) {
	a := newIPAllocator(FirstPodIP, LastPodIP)
	for i, want := range []string{"127.10.0.1", "127.10.0.2", "127.10.0.3"} {
		got, err := a.Allocate()
		if err != nil || got.String() != want {
			t.Fatalf("Allocate() #%d = %v, %v, want %s", i, got, err, want)
		}
	}
	if a.InUse() != 3 {
		t.Errorf("InUse() = %d, want 3", a.InUse())
	}
}

func TestIPAllocator_SkipsNetworkAndBroadcastOfEachSlash16(t *testing.T) {
	a := newIPAllocator(netip.MustParseAddr("127.10.255.253"), LastPodIP)
	var got []string
	for range 3 {
		ip, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ip.String())
	}
	want := []string{"127.10.255.253", "127.10.255.254", "127.11.0.1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocations = %v, want %v", got, want)
		}
	}
}

func TestIPAllocator_FreedReusedOnlyAfterFreshExhaustedOldestFirst(t *testing.T) {
	a := newIPAllocator(netip.MustParseAddr("127.10.0.1"), netip.MustParseAddr("127.10.0.4"))
	var ips []netip.Addr
	for range 3 {
		ip, _ := a.Allocate()
		ips = append(ips, ip)
	}
	a.Release(ips[1]) // 127.10.0.2
	a.Release(ips[0]) // 127.10.0.1
	ip, _ := a.Allocate()
	if ip.String() != "127.10.0.4" {
		t.Fatalf("Allocate() after release = %s, want the never-used 127.10.0.4", ip)
	}
	ip, _ = a.Allocate()
	if ip.String() != "127.10.0.2" {
		t.Fatalf("Allocate() = %s, want the oldest freed 127.10.0.2", ip)
	}
	ip, _ = a.Allocate()
	if ip.String() != "127.10.0.1" {
		t.Fatalf("Allocate() = %s, want 127.10.0.1", ip)
	}
	if _, err := a.Allocate(); err == nil {
		t.Fatal("Allocate() on an exhausted range succeeded")
	}
}

func TestIPAllocator_ReserveTakesAddressOutOfRotation(t *testing.T) {
	a := newIPAllocator(netip.MustParseAddr("127.10.0.1"), netip.MustParseAddr("127.10.0.3"))
	if !a.Reserve(netip.MustParseAddr("127.10.0.2")) {
		t.Fatal("Reserve(127.10.0.2) = false, want true")
	}
	if a.Reserve(netip.MustParseAddr("127.10.0.2")) {
		t.Fatal("second Reserve(127.10.0.2) = true, want false")
	}
	if a.Reserve(netip.MustParseAddr("10.0.0.1")) {
		t.Fatal("Reserve(out of range) = true, want false")
	}
	got := map[string]bool{}
	for range 2 {
		ip, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		got[ip.String()] = true
	}
	if got["127.10.0.2"] || !got["127.10.0.1"] || !got["127.10.0.3"] {
		t.Fatalf("allocated %v, want 127.10.0.1 and 127.10.0.3 only", got)
	}
}

func TestIPAllocator_DistinctUnderLoad(t *testing.T) {
	a := newIPAllocator(FirstPodIP, LastPodIP)
	seen := map[netip.Addr]bool{}
	for range 70000 { // crosses into 127.11.0.0/16
		ip, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[ip] || !ip.IsLoopback() || special(toU32(ip)) {
			t.Fatalf("Allocate() = %s: duplicate, non-loopback or special", ip)
		}
		seen[ip] = true
	}
}

func TestEndpointIP_RoundTripAndPassThrough(t *testing.T) {
	for _, tc := range []struct{ pod, ep string }{
		{"127.10.0.1", "10.10.0.1"},
		{"127.11.255.254", "10.11.255.254"},
	} {
		if got := EndpointIP(tc.pod); got != tc.ep {
			t.Errorf("EndpointIP(%s) = %s, want %s", tc.pod, got, tc.ep)
		}
		if got := PodIP(tc.ep); got != tc.pod {
			t.Errorf("PodIP(%s) = %s, want %s", tc.ep, got, tc.pod)
		}
	}
	for _, s := range []string{"192.168.1.1", "::1", "not-an-ip"} {
		if EndpointIP(s) != s || PodIP(s) != s {
			t.Errorf("EndpointIP/PodIP(%s) changed a non-mapped address", s)
		}
	}
}
