// Package scenarios is servingsim's scenario format and catalog: the Scenario type
// (apiVersion servingsim.dev/v1alpha1, kind Scenario) with its stack settings, Knative objects,
// load streams, actions and expectations; a strict YAML loader whose every error names the
// file, line, column and field path and says what is valid; validation that runs the Knative
// objects through Knative's own admission defaulting and validation (stack/webhook) and the
// config-* overrides through Knative's config parsing (stack/config); a small Go builder (New)
// that produces the same value; and the bundled catalog (catalog/*.yaml: Knative's benchmarks
// and conformance behaviours from knative-semantics.md §7, the data-plane and autoscaler
// acceptance cases, and §8 regressions).
//
// The format is described field by field in docs/scenario-format.md; docs/scenario.schema.json
// is its JSON Schema, generated from these types (go test ./scenarios -run TestSchema -update).
//
// Times in a scenario count from the moment every object in spec.services is Ready.
//
// Run executes a scenario, shared by simctl run, the catalog suite (scenarios/catalogsuite) and
// Go-written specs (gomega matchers in scenarios/matchers): in live mode on a real stack
// (StackOptions, harness), in virtual mode in virtual time. Either driver fills a Record (the
// reports.Run plus per-revision state changes, revisions, routing and app concurrency) and
// Evaluate checks every expectation and the request accounting against it.
package scenarios
