// Package resources builds a PodAutoscaler's ServerlessService and Metric and holds the pure
// rules of §3.5 that size and shape them: the SKS mode and the number of activators.
package resources
