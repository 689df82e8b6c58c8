package rng

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
)

// Source derives named streams from one seed.
type Source struct {
	seed uint64
}

// New returns a Source for seed.
func New(seed int64) *Source { return &Source{seed: uint64(seed)} }

// Seed returns the run seed, for printing on failure.
func (s *Source) Seed() int64 { return int64(s.seed) }

// Stream returns a fresh generator for name (e.g. "gateway/split", "podruntime/startup"). The same
// seed and name always give the same sequence. The result is safe for concurrent use.
func (s *Source) Stream(name string) *Stream {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return &Stream{r: rand.New(rand.NewPCG(s.seed, h.Sum64()))}
}

// Stream is a named random stream, safe for concurrent use. Concurrent callers draw in
// scheduling order; deterministic runs give each stream a single owner.
type Stream struct {
	mu sync.Mutex
	r  *rand.Rand
}

// Float64 returns a value in [0, 1).
func (s *Stream) Float64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Float64()
}

// IntN returns a value in [0, n).
func (s *Stream) IntN(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.IntN(n)
}

// ExpFloat64 returns an exponentially distributed value with rate 1.
func (s *Stream) ExpFloat64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.ExpFloat64()
}

// NormFloat64 returns a standard normal value.
func (s *Stream) NormFloat64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.NormFloat64()
}

// Uint64 returns a uniformly distributed value, usable to seed gonum's distuv sources.
func (s *Stream) Uint64() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Uint64()
}
