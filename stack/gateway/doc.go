// Package gateway is servingsim's networking layer (the Kourier/Istio stand-in): it programs
// KIngress objects into a host routing table and reports them Ready, so Routes and Services wait
// for the gateway as they do in Knative (knative-semantics.md §6).
package gateway
