// Package podruntime stands in for the parts of Kubernetes that envtest does not run: the
// Deployment/ReplicaSet controllers, the scheduler, the kubelet of one simulated node, and the
// endpoints and endpointslice controllers. Knative's Revision reconciler reads what it writes
// (knative-semantics.md §1.5): Deployment conditions and replica counts, pod conditions and
// container statuses.
//
// # Deployments
//
// Every Deployment (Options.DeploymentSelector narrows it) keeps spec.replicas Pods, named
// <deployment>-<template hash>-<5 chars from a seeded stream> and labelled pod-template-hash, with
// the template's labels and annotations. Simplification: there are no ReplicaSet objects; Pods
// carry a controller ownerRef to the Deployment itself, and "ReplicaSet" names in condition
// messages are <deployment>-<hash>. Template changes roll out per the strategy (RollingUpdate
// within maxSurge/maxUnavailable, or Recreate). Scale-down picks victims like the ReplicaSet
// controller (unscheduled, then pending, then not-ready, then the most recently ready, the most
// restarted, the newest). Status: replicas, updatedReplicas, readyReplicas, availableReplicas
// (minReadySeconds honoured), unavailableReplicas, terminatingReplicas, observedGeneration and
// the Available, Progressing (NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable,
// ProgressDeadlineExceeded on the injected clock) and ReplicaFailure conditions. No garbage
// collector runs against envtest, so the pods of a deleted Deployment are deleted here.
//
// # Scheduler and kubelet
//
// Pods are bound (pods/binding) to one Node, DefaultNodeName, registered Ready at start. Each pod
// draws a plan once, from streams named after the phase and the pod, so the plan depends only on
// the seed and the pod's name: schedule → image pull → container start → startup (ready) delays,
// each a Dist (constant, uniform, exponential, lognormal) from Options.Startup or the pod's
// sim.servingsim.dev/*-delay annotations. Each bound pod gets its own loopback IP (127.10.0.1
// upward; addresses are reused only after the pod is gone); hostIP is the node's 127.0.0.1.
// Status is what the kubelet writes: phase, conditions PodReadyToStartContainers, Initialized,
// Ready, ContainersReady, PodScheduled, and a containerStatus per container with waiting /
// running / terminated state, ready, started, restartCount and lastState. Containers without a
// readiness probe are ready once running (like Knative's user-container); probed ones (like the
// queue-proxy) after the startup delay and the Sandbox's ready signal; when no container has a
// probe, all are treated as probed.
//
// Faults (Options.Faults, overridden by annotations): never-ready, crash (exit code, CrashLoopBackOff
// with the kubelet's 10s→5m back-off), unschedulable (PodScheduled False, Unschedulable),
// image-pull-error (ErrImagePull / ImagePullBackOff). They apply to the first container that is
// not the queue-proxy. See the *Annotation constants for keys and values.
//
// Container exits: Runtime.FailContainer makes a running pod's user container exit with a code
// (a scenario's failPod). The status shows it terminated and the pod not Ready at once; after
// the plan's restart delay (RestartDelayAnnotation, default the drawn container-start delay) it
// runs again with restartCount up by one and the exit as lastState, and the pod is Ready after
// the startup delay and the Sandbox's new ready signal. A Sandbox that is a ContainerRestarter
// kills and restarts its app. Simplification: no CrashLoopBackOff between such restarts.
//
// Termination: a deleted bound pod keeps running with a deletionTimestamp (the API server only
// marks it); the kubelet marks it not-ready, drains (the model's drain delay and Sandbox.Drain,
// bounded by the grace period on the injected clock), lets the containers exit (0, or 137 when
// the grace period ran out), writes the terminal phase, stops the sandbox, deletes the pod with
// grace period 0 and then frees its IP.
//
// # Endpoints
//
// For every Service with a selector (not default/kubernetes), core/v1 Endpoints (ready addresses
// vs notReadyAddresses, terminating pods left out, ports resolved by targetPort number or name)
// and discovery.k8s.io/v1 EndpointSlices (managed-by endpointslice-controller.k8s.io, ready /
// serving / terminating conditions, at most 100 endpoints per slice, a placeholder when empty
// that is updated in place into the first real slice). Slices are compared in the cache and
// re-listed from the API server only when a write is due.
// The API server refuses loopback addresses in both, so pod IP 127.a.b.c is published as
// 10.a.b.c (EndpointIP); consumers dial PodIP(address) or follow targetRef to the Pod.
//
// # Time and randomness
//
// Every delay runs on Options.Clock (timers re-enqueue objects; controller-runtime's
// RequeueAfter is not used), every draw comes from Options.Source. With the zero StartupModel a
// pod goes from created to Ready in two API writes: the sandbox starts while the binding is in
// flight, and the first status waits up to 50ms for its ready signal so that Running and Ready
// are written together.
package podruntime
