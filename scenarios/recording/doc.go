// Package recording writes, reads and replays the recordings of live runs
// (docs/recording-format.md): a versioned, gzip-compressed JSON-lines file holding the scenario,
// the config in force, and in order what happened: config and PodAutoscaler changes, pod
// events, request arrivals, and every input the KPA's pure cores (stack/autoscaler) received
// (collector and decider specs, stats, ready-pod counts) with every tick's outputs.
//
// Recorder collects a live run (StartLive attaches it to a stack's KPA and informers) and
// writes the file at the end; Reader streams a file back; Replay feeds a recording's inputs to
// fresh cores in virtual time, optionally under changed config-autoscaler keys, and reports the
// first tick whose outputs differ from the recorded ones (knative-semantics.md §3.3, §3.4).
//
// The package sits under scenarios/ because scenario runs produce recordings, but it does not
// import package scenarios (which imports it).
package recording
