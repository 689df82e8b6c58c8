// Package reports holds what a scenario run recorded (Run: requests, per-second time series,
// autoscaler decisions, events, expectation outcomes) and renders it: summary.json, vegeta
// results, CSVs, Markdown and a self-contained HTML report with plots. Both drivers, live and
// virtual, produce the same Run, so one renderer serves both.
package reports
