// Package recordings keeps recordings of live catalog runs (docs/recording-format.md) as
// regression tests: recordings_test.go replays every *.jsonl.gz here through the KPA's pure
// cores (stack/autoscaler) and fails when any tick's decision differs from the recorded one, i.e.
// when the autoscaler's behaviour on that input changed (knative-semantics.md §3.3, §3.4).
//
// A recording is the recording.jsonl.gz of a live run's directory; keep each under 200 KB. To
// add or refresh one after an intended behaviour change:
//
//	simctl run burst-to-panic --out /tmp/burst
//	cp /tmp/burst/recording.jsonl.gz scenarios/recordings/burst-to-panic.jsonl.gz
package recordings
