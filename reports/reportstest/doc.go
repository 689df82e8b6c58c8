// Package reportstest builds synthetic runs for the tests and benchmarks of package reports
// and its users (simctl report and compare): plausible, deterministic, and covering what the
// renderers must handle (cold starts, a traffic split, a tagged revision, errors, decisions,
// events, passed and failed expectations).
package reportstest
