// Package cluster starts and stops the real Kubernetes API server (controller-runtime's envtest:
// kube-apiserver and etcd built from source by hack/envtest-assets.sh), installs servingsim's
// CRDs and admission webhook configurations, and waits until the API accepts writes.
package cluster
