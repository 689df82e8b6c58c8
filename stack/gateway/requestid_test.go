package gateway

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	netv1alpha1 "github.com/servingsim/servingsim/stack/apis/networking/v1alpha1"
	"github.com/servingsim/servingsim/stack/rng"
)

// tryGet is do for goroutines: it reports failures instead of stopping the test.
func (g *gateway) tryGet(host string, header http.Header) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+g.ExternalAddr()+"/", nil)
	if err != nil {
		return "", err
	}
	req.Host, req.Header = host, header
	resp, err := g.client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d %q, want 200", resp.StatusCode, b)
	}
	return string(b), err
}

// chiSquarePValue is Pearson's test of counts against equal expected counts.
func chiSquarePValue(counts []int, n int) (chi2, p float64) {
	exp := float64(n) / float64(len(counts))
	for _, c := range counts {
		d := float64(c) - exp
		chi2 += d * d / exp
	}
	return chi2, (distuv.ChiSquared{K: float64(len(counts) - 1)}).Survival(chi2)
}

// The hash draw of consecutive ids (what harness/load sends: "<stream>/<phase>/<seq>") is
// uniform: 100 buckets, 200,000 ids, chi-square p ≥ 0.001, for several keys and routes.
func TestRequestHash_UniformOverConsecutiveIDs_ChiSquare(t *testing.T) {
	const n, buckets = 200_000, 100
	for _, tc := range []struct {
		key   uint64
		route string
	}{{1, "hello"}, {rng.New(7).Stream("gateway").Uint64(), "blue-green"}, {0, ""}} {
		counts := make([]int, buckets)
		for i := range n {
			counts[hashIntN(requestHash(tc.key, tc.route, fmt.Sprintf("split/0-constant/%d", i)), buckets)]++
		}
		if chi2, p := chiSquarePValue(counts, n); p < 0.001 {
			t.Errorf("key %d route %q: chi² = %.1f over %d buckets, p = %.2g; want p ≥ 0.001", tc.key, tc.route, chi2, buckets, p)
		}
	}
}

// Pairs of draws of neighbouring ids are independent: the 10×10 joint table of (draw(i),
// draw(i+1)) is uniform, so a split does not alternate or clump along a stream.
func TestRequestHash_NeighboursIndependent_ChiSquare(t *testing.T) {
	const n, k = 100_000, 10
	counts := make([]int, k*k)
	prev := hashIntN(requestHash(3, "h", "s/0/0"), k)
	for i := 1; i <= n; i++ {
		cur := hashIntN(requestHash(3, "h", fmt.Sprintf("s/0/%d", i)), k)
		counts[prev*k+cur]++
		prev = cur
	}
	if chi2, p := chiSquarePValue(counts, n); p < 0.001 {
		t.Errorf("joint table of neighbours: chi² = %.1f, p = %.2g; want p ≥ 0.001", chi2, p)
	}
}

func TestRequestHash_DependsOnKeyRouteAndID(t *testing.T) {
	base := requestHash(1, "a", "s/0-constant/5")
	if again := requestHash(1, "a", "s/0-constant/5"); again != base {
		t.Errorf("requestHash not repeatable: %x then %x", base, again)
	}
	for name, h := range map[string]uint64{
		"key":   requestHash(2, "a", "s/0-constant/5"),
		"route": requestHash(1, "b", "s/0-constant/5"),
		"id":    requestHash(1, "a", "s/0-constant/6"),
		// the route and id are not just concatenated
		"boundary": requestHash(1, "a/s", "0-constant/5"),
	} {
		if h == base {
			t.Errorf("changing the %s left requestHash at %x", name, h)
		}
	}
}

// With hash draws the weighted choice still follows the percents (§6 weighted split).
func TestChooseSplit_HashDrawsFollowPercents_ChiSquare(t *testing.T) {
	splits := []netv1alpha1.IngressBackendSplit{split("a", 70), split("zero", 0), split("b", 20), split("c", 10)}
	const n = 100_000
	counts := map[string]int{}
	for i := range n {
		d := splitDraw{hashed: true, hash: requestHash(9, "hello", fmt.Sprintf("s/0/%d", i))}
		counts[chooseSplit(splits, d).ServiceName]++
	}
	if counts["zero"] != 0 {
		t.Errorf("0%% split drawn %d times, want 0", counts["zero"])
	}
	chi2 := 0.0
	for name, p := range map[string]float64{"a": .7, "b": .2, "c": .1} {
		d := float64(counts[name]) - n*p
		chi2 += d * d / (n * p)
	}
	if p := (distuv.ChiSquared{K: 2}).Survival(chi2); p < 0.001 {
		t.Errorf("hash-drawn counts %v: chi² = %.1f, p = %.2g; want p ≥ 0.001 for 70/20/10", counts, chi2, p)
	}
}

// Over HTTP: a request with RequestIDHeader goes to the same revision whatever the order and
// concurrency of arrivals, the header never reaches the upstream, the same seed gives the
// same assignment and another seed another one.
func TestGatewayRequestIDSplitIsDeterministic_Section6(t *testing.T) {
	const n = 200
	assign := func(seed int64, order []int) map[int]string {
		t.Helper()
		tb, eps, up1, up2 := twoRevisions(t, false, split("hello-00001", 50), split("hello-00002", 50))
		g := startGateway(t, tb, eps, func(o *Options) { o.Stream = rng.New(seed).Stream("gateway") })
		out := make(map[int]string, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, i := range order {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				body, err := g.tryGet("hello.demo.example.com", http.Header{RequestIDHeader: {fmt.Sprintf("s/0-constant/%d", i)}})
				if err != nil {
					t.Errorf("request %d: %v", i, err)
				}
				mu.Lock()
				out[i] = body
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, u := range []*upstream{up1, up2} {
			u.mu.Lock()
			for _, s := range u.log {
				if v := s.header.Get(RequestIDHeader); v != "" {
					t.Errorf("upstream %s saw %s: %q, want it removed", u.name, RequestIDHeader, v)
				}
			}
			u.mu.Unlock()
		}
		return out
	}
	inOrder := make([]int, n)
	for i := range inOrder {
		inOrder[i] = i
	}
	shuffled := append([]int(nil), inOrder...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	first, second, other := assign(5, inOrder), assign(5, shuffled), assign(6, inOrder)
	same, differ, revs := 0, 0, map[string]int{}
	for i := range n {
		revs[first[i]]++
		if first[i] == second[i] {
			same++
		}
		if first[i] != other[i] {
			differ++
		}
	}
	if same != n {
		t.Errorf("seed 5 in order vs shuffled and concurrent: %d of %d requests went to the same revision, want all", same, n)
	}
	if differ < n/4 { // independent 50/50 assignments differ for about half
		t.Errorf("seed 5 vs seed 6: only %d of %d assignments differ, want about half", differ, n)
	}
	if revs["hello-00001"] < n/4 || revs["hello-00002"] < n/4 {
		t.Errorf("50/50 split by request id gave %v, want both revisions used", revs)
	}
}
