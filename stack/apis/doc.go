// Package apis registers every API group servingsim serves (Knative's public and internal groups
// plus the Kubernetes built-ins) into one scheme.
package apis
