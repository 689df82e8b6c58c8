package activator

import (
	"fmt"
	"slices"
	"testing"
)

func pods(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%02d", i)
	}
	return out
}

func TestAssignPods_Section4Table(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pods         int
		index, count int
		want         []int
	}{
		{"unknown index takes all", 5, -1, 2, []int{0, 1, 2, 3, 4}},
		{"one activator takes all", 5, 0, 1, []int{0, 1, 2, 3, 4}},
		{"count 0 (never seen in Proxy mode) takes all", 3, -1, 0, []int{0, 1, 2}},
		{"even split, first", 4, 0, 2, []int{0, 1}},
		{"even split, second", 4, 1, 2, []int{2, 3}},
		{"remainder to activator 0", 5, 0, 2, []int{0, 1, 4}},
		{"no remainder for activator 1", 5, 1, 2, []int{2, 3}},
		{"20 pods 3 activators: 0 gets slice+18", 20, 0, 3, []int{0, 1, 2, 3, 4, 5, 18}},
		{"20 pods 3 activators: 1 gets slice+19", 20, 1, 3, []int{6, 7, 8, 9, 10, 11, 19}},
		{"20 pods 3 activators: 2 gets slice only", 20, 2, 3, []int{12, 13, 14, 15, 16, 17}},
		{"more activators than pods: i mod P (0)", 2, 0, 3, []int{0}},
		{"more activators than pods: i mod P (1)", 2, 1, 3, []int{1}},
		{"more activators than pods: i mod P (2)", 2, 2, 3, []int{0}},
		{"index out of range takes all", 3, 3, 3, []int{0, 1, 2}},
		{"no pods", 0, 0, 2, nil},
		// #13331: CC=1, TBC=-1, 2 activators, 2 pods: each activator owns one pod, so a request
		// at activator 0 waits for its busy pod while activator 1's pod idles.
		{"#13331 activator 0", 2, 0, 2, []int{0}},
		{"#13331 activator 1", 2, 1, 2, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := pods(tc.pods)
			var want []string
			for _, i := range tc.want {
				want = append(want, all[i])
			}
			got := AssignPods(all, tc.index, tc.count)
			if !slices.Equal(got, want) {
				t.Errorf("AssignPods(%d pods, %d, %d) = %v, want %v", tc.pods, tc.index, tc.count, got, want)
			}
		})
	}
}

// Every pod is owned by exactly one activator when there are at least as many pods as
// activators: the slices and remainders partition the pods.
func TestAssignPods_PartitionsPods_Section4(t *testing.T) {
	for p := 1; p <= 30; p++ {
		for a := 1; a <= p; a++ {
			owners := map[string]int{}
			for i := range a {
				for _, pod := range AssignPods(pods(p), i, a) {
					owners[pod]++
				}
			}
			for _, pod := range pods(p) {
				if owners[pod] != 1 {
					t.Fatalf("P=%d A=%d: pod %s owned by %d activators, want 1", p, a, pod, owners[pod])
				}
			}
		}
	}
}

func TestSortIPs_NumericOrder(t *testing.T) {
	got := SortIPs([]string{"127.0.0.10", "127.0.0.9", "127.0.1.1", "127.0.0.9", "x"})
	want := []string{"127.0.0.9", "127.0.0.10", "127.0.1.1", "x"}
	if !slices.Equal(got, want) {
		t.Errorf("SortIPs = %v, want %v", got, want)
	}
}

func TestActivatorPosition_Section4(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		public               []string
		self                 string
		wantIndex, wantCount int
		wantOK               bool
	}{
		{"first of two", []string{"127.0.1.2", "127.0.1.1"}, "127.0.1.1", 0, 2, true},
		{"second of two", []string{"127.0.1.2", "127.0.1.1"}, "127.0.1.2", 1, 2, true},
		{"numeric order", []string{"127.0.1.10", "127.0.1.9"}, "127.0.1.10", 1, 2, true},
		{"alone", []string{"127.0.1.1"}, "127.0.1.1", 0, 1, true},
		{"serve mode: pod IPs", []string{"127.10.0.1", "127.10.0.2"}, "127.0.1.1", -1, 0, false},
		{"empty", nil, "127.0.1.1", -1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, n, ok := ActivatorPosition(tc.public, tc.self)
			if i != tc.wantIndex || n != tc.wantCount || ok != tc.wantOK {
				t.Errorf("ActivatorPosition(%v, %s) = %d, %d, %v, want %d, %d, %v", tc.public, tc.self, i, n, ok, tc.wantIndex, tc.wantCount, tc.wantOK)
			}
		})
	}
}
