// Package system builds and wires every servingsim component (config store, admission webhook,
// reconcilers, pod runtime, gateway) from one Options struct onto a controller-runtime manager,
// and creates the objects a Knative install has (namespaces, config-* ConfigMaps, system
// Services and Endpoints).
package system
