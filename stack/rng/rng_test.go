package rng

import "testing"

func TestStreamsAreIndependentAndRepeatable(t *testing.T) {
	a1, a2 := New(7).Stream("a"), New(7).Stream("a")
	b := New(7).Stream("b")
	same, diff := true, false
	for range 100 {
		x, y, z := a1.Uint64(), a2.Uint64(), b.Uint64()
		same = same && x == y
		diff = diff || x != z
	}
	if !same {
		t.Error("same seed and name gave different sequences")
	}
	if !diff {
		t.Error("different names gave the same sequence")
	}
	if New(7).Stream("a").Uint64() == New(8).Stream("a").Uint64() {
		t.Error("different seeds gave the same first draw")
	}
}
