// Package catalogsuite runs the bundled scenario catalog (scenarios/catalog/*.yaml) as a ginkgo
// suite: one spec per scenario, run live through scenarios.Run (on a stack of its own when the
// scenario sets stack settings, otherwise on one stack those scenarios share), labelled with the
// scenario's metadata.labels as ginkgo label sets (suite:benchmark, area:autoscaler,
// issue:11926), failing with the scenario's expectation report. It has no API; see
// catalog_test.go and docs/scenario-format.md ("The catalog as a test suite").
package catalogsuite
