// Package scenarios holds the scenario catalog servingsim ships (Knative YAML and scenario specs)
// and the runner shared by simctl and the ginkgo suites.
package scenarios
