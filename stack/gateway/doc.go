// Package gateway is servingsim's networking layer (the Kourier/Istio stand-in): it programs
// KIngress objects into a host routing table and reports them Ready, so Routes and Services wait
// for the gateway as they do in Knative, and it serves the data path (knative-semantics.md §6):
// Host → path (tag header matches first) → weighted split → the split Service's ready Endpoints
// (pods in Serve mode, the activator in Proxy mode) → reverse proxy, adding the Ingress's
// appendHeaders and the forwarding headers.
//
// Like Kourier it has two listeners. The external one (Service kourier, :8080) serves
// ExternalIP rules only; the internal one (Service kourier-internal, :8081, where the route's
// placeholder Services point) serves ClusterLocal rules and, as Kourier's internal gateway
// does, ExternalIP rules too, so in-cluster callers can use either URL.
//
// Simplifications: plain HTTP/1.1 only (no TLS, no h2c upstreams: every split is sent to the
// target port of the Endpoints' "http" port); no retries (§6 Retries); no ingress-probe replies
// (the reconciler marks Ingresses Ready directly); rewriteHost only rewrites the Host header.
package gateway
