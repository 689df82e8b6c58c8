// Package rng hands out named, independently seeded random streams derived from one run seed,
// so adding a component or a draw in one place never changes another component's draws.
package rng
