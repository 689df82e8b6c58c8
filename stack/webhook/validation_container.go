package webhook

import (
	"fmt"
	"math"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/servingsim/servingsim/stack/apis/serving"
)

// containerFields are the Container fields Knative allows (§2.2 Container allowed fields).
var containerFields = []string{"name", "args", "command", "env", "envFrom", "workingDir", "image",
	"imagePullPolicy", "livenessProbe", "readinessProbe", "startupProbe", "ports", "resources",
	"securityContext", "terminationMessagePath", "terminationMessagePolicy", "volumeMounts"}

// initContainerFields are containerFields without the probes.
var initContainerFields = slices.DeleteFunc(slices.Clone(containerFields), func(f string) bool {
	return f == "livenessProbe" || f == "readinessProbe" || f == "startupProbe"
})

// containerSecurityContextFields are allowed without kubernetes.podspec-securitycontext.
var containerSecurityContextFields = []string{"capabilities", "readOnlyRootFilesystem", "runAsUser",
	"runAsGroup", "runAsNonRoot", "allowPrivilegeEscalation", "seccompProfile"}

// reservedEnvVars are set by Knative on the user container.
var reservedEnvVars = []string{"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}

// servingPort returns the port of the serving container (default http/8080) and checks that
// exactly one port is declared across several containers (§2.2 Ports).
func servingPort(ctrs []corev1.Container) (corev1.ContainerPort, *FieldError) {
	port := corev1.ContainerPort{}
	count := 0
	for _, ctr := range ctrs {
		if len(ctr.Ports) > 0 {
			count += len(ctr.Ports)
			port = ctr.Ports[0]
		}
	}
	if port.Name == "" {
		port.Name = serving.DefaultUserPortName
	}
	if port.ContainerPort == 0 {
		port.ContainerPort = serving.DefaultUserPort
	}
	if len(ctrs) < 2 {
		return port, nil
	}
	switch {
	case count == 0:
		return port, errMissingField("containers.ports")
	case count > 1:
		return port, &FieldError{Message: "more than one container port is set", Paths: []string{"containers[*].ports"},
			Details: "Only a single port is allowed across all containers"}
	}
	return port, nil
}

// validateServingContainer checks the ports and probes of the container that receives traffic.
func validateServingContainer(ctr *corev1.Container, port corev1.ContainerPort) *FieldError {
	var errs *FieldError
	if len(ctr.Ports) > 1 {
		errs = errs.Also(&FieldError{Message: "more than one container port is set", Paths: []string{"ports"},
			Details: "Only a single port is allowed"})
	}
	if len(ctr.Ports) > 0 {
		errs = errs.Also(validatePort(ctr.Ports[0]).ViaFieldIndex("ports", 0))
	}
	return errs.
		Also(validateProbe(ctr.LivenessProbe, &port).ViaField("livenessProbe")).
		Also(validateReadinessProbe(ctr.ReadinessProbe, &port).ViaField("readinessProbe")).
		Also(validateProbe(ctr.StartupProbe, &port).ViaField("startupProbe"))
}

// validatePort checks the user port: TCP, not reserved, in range, named "", h2c or http1.
func validatePort(p corev1.ContainerPort) *FieldError {
	errs := checkAllowed(p, "containerPort", "name", "protocol")
	if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
		errs = errs.Also(errInvalidValue(p.Protocol, "protocol"))
	}
	if isReservedPort(p.ContainerPort) {
		errs = errs.Also(&FieldError{Message: fmt.Sprintf("%d is a reserved port", p.ContainerPort),
			Paths:   []string{"containerPort"},
			Details: fmt.Sprintf("%d is a reserved port, please use a different value", p.ContainerPort)})
	}
	if p.ContainerPort < 0 || p.ContainerPort > 65535 {
		errs = errs.Also(errOutOfBounds(p.ContainerPort, 0, 65535, "containerPort"))
	}
	switch p.Name {
	case "", "h2c", "http1":
	default:
		errs = errs.Also(&FieldError{Message: fmt.Sprintf("Port name %v is not allowed", p.Name), Paths: []string{"name"},
			Details: "Name must be empty, or one of: 'h2c', 'http1'"})
	}
	return errs
}

// validateSidecarContainer rejects probes on non-serving containers unless
// multi-container-probing is on.
func validateSidecarContainer(c reqCtx, ctr *corev1.Container) *FieldError {
	if c.cfg.Features.IsOn(featureMultiContainerProbing) {
		return validateProbe(ctr.LivenessProbe, nil).ViaField("livenessProbe").
			Also(validateProbe(ctr.ReadinessProbe, nil).ViaField("readinessProbe"))
	}
	var errs *FieldError
	if ctr.LivenessProbe != nil {
		errs = errs.Also(errDisallowedFields("livenessProbe"))
	}
	if ctr.ReadinessProbe != nil {
		errs = errs.Also(errDisallowedFields("readinessProbe"))
	}
	return errs
}

// validateContainer holds the checks every container (serving, sidecar, init) gets.
func validateContainer(c reqCtx, ctr *corev1.Container, volumes map[string]corev1.Volume, allowed []string) *FieldError {
	errs := checkAllowed(*ctr, allowed...)
	if ctr.Name == serving.QueueContainerName {
		errs = errs.Also(errGeneric(fmt.Sprintf("%q is a reserved container name", ctr.Name), "name"))
	}
	for i, env := range ctr.Env {
		errs = errs.Also(validateEnvVar(c, env).ViaFieldIndex("env", i))
	}
	for i, from := range ctr.EnvFrom {
		e := checkAllowed(from, "prefix", "configMapRef", "secretRef")
		switch {
		case from.ConfigMapRef != nil && from.SecretRef != nil:
			e = e.Also(errMultipleOneOf("configMapRef", "secretRef"))
		case from.ConfigMapRef == nil && from.SecretRef == nil:
			e = e.Also(errMissingOneOf("configMapRef", "secretRef"))
		}
		errs = errs.Also(e.ViaFieldIndex("envFrom", i))
	}
	if ctr.Image == "" {
		errs = errs.Also(errMissingField("image"))
	} else if err := parseImageReference(ctr.Image); err != nil {
		errs = errs.Also(&FieldError{Message: "Failed to parse image reference", Paths: []string{"image"},
			Details: fmt.Sprintf("image: %q, error: %v", ctr.Image, err)})
	}
	errs = errs.Also(checkAllowed(ctr.Resources, "limits", "requests").ViaField("resources"))
	if sc := ctr.SecurityContext; sc != nil && !c.cfg.Features.IsOn(featureSecurityContext) {
		errs = errs.Also(checkAllowed(*sc, containerSecurityContextFields...).ViaField("securityContext"))
	}
	return errs.Also(validateVolumeMounts(ctr.VolumeMounts, volumes).ViaField("volumeMounts"))
}

// validateEnvVar requires a name that Knative does not reserve, and a supported valueFrom.
func validateEnvVar(c reqCtx, env corev1.EnvVar) *FieldError {
	errs := checkAllowed(env, "name", "value", "valueFrom")
	switch {
	case env.Name == "":
		errs = errs.Also(errMissingField("name"))
	case slices.Contains(reservedEnvVars, env.Name):
		errs = errs.Also(errGeneric(fmt.Sprintf("%q is a reserved environment variable", env.Name), "name"))
	}
	if from := env.ValueFrom; from != nil {
		allowed := []string{"configMapKeyRef", "secretKeyRef"}
		if c.cfg.Features.IsOn(featureFieldRef) {
			allowed = append(allowed, "fieldRef", "resourceFieldRef")
		}
		errs = errs.Also(checkAllowed(*from, allowed...).ViaField("valueFrom"))
	}
	return errs
}

// validateProbe checks the handler (exactly one; on the serving container its port must be the
// container port) and the allowed probe fields. port is nil for sidecars.
func validateProbe(p *corev1.Probe, port *corev1.ContainerPort) *FieldError {
	if p == nil {
		return nil
	}
	errs := checkAllowed(*p, "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
		"failureThreshold", "exec", "httpGet", "tcpSocket", "grpc")
	var handlers []string
	if h := p.HTTPGet; h != nil {
		handlers = append(handlers, "httpGet")
		errs = errs.Also(checkAllowed(*h, "host", "path", "port", "scheme", "httpHeaders").ViaField("httpGet")).
			Also(probePort(h.Port, port, "httpGet.port"))
	}
	if h := p.TCPSocket; h != nil {
		handlers = append(handlers, "tcpSocket")
		errs = errs.Also(checkAllowed(*h, "host", "port").ViaField("tcpSocket")).
			Also(probePort(h.Port, port, "tcpSocket.port"))
	}
	if h := p.Exec; h != nil {
		handlers = append(handlers, "exec")
	}
	if h := p.GRPC; h != nil {
		handlers = append(handlers, "grpc")
		errs = errs.Also(probePort(intstr.FromInt32(h.Port), port, "grpc.port"))
	}
	switch len(handlers) {
	case 0:
		errs = errs.Also(errMissingOneOf("httpGet", "tcpSocket", "exec", "grpc"))
	case 1:
	default:
		errs = errs.Also(errMultipleOneOf(handlers...))
	}
	return errs
}

// probePort requires a probe port on the serving container to be unset or the container port
// (by number or name).
func probePort(p intstr.IntOrString, port *corev1.ContainerPort, path string) *FieldError {
	if port == nil {
		return nil
	}
	var ok bool
	switch p.Type {
	case intstr.String:
		ok = p.StrVal == "" || p.StrVal == port.Name
	default:
		ok = p.IntVal == 0 || p.IntVal == port.ContainerPort
	}
	if ok {
		return nil
	}
	return errInvalidValue(p.String(), path, "Probe port must match container port")
}

// validateReadinessProbe adds the readiness bounds; periodSeconds 0 selects Knative's aggressive
// probing, in which failureThreshold and timeoutSeconds must stay unset (§2.2 Probes).
func validateReadinessProbe(p *corev1.Probe, port *corev1.ContainerPort) *FieldError {
	if p == nil {
		return nil
	}
	errs := validateProbe(p, port)
	if p.PeriodSeconds < 0 {
		errs = errs.Also(errOutOfBounds(p.PeriodSeconds, 0, math.MaxInt32, "periodSeconds"))
	}
	if p.InitialDelaySeconds < 0 {
		errs = errs.Also(errOutOfBounds(p.InitialDelaySeconds, 0, math.MaxInt32, "initialDelaySeconds"))
	}
	if p.SuccessThreshold < 1 {
		errs = errs.Also(errOutOfBounds(p.SuccessThreshold, 1, math.MaxInt32, "successThreshold"))
	}
	if p.PeriodSeconds == 0 {
		if p.FailureThreshold != 0 {
			errs = errs.Also(errGeneric("failureThreshold is disallowed when periodSeconds is zero", "failureThreshold"))
		}
		if p.TimeoutSeconds != 0 {
			errs = errs.Also(errGeneric("timeoutSeconds is disallowed when periodSeconds is zero", "timeoutSeconds"))
		}
		return errs
	}
	if p.TimeoutSeconds < 1 {
		errs = errs.Also(errOutOfBounds(p.TimeoutSeconds, 1, math.MaxInt32, "timeoutSeconds"))
	}
	if p.FailureThreshold < 1 {
		errs = errs.Also(errOutOfBounds(p.FailureThreshold, 1, math.MaxInt32, "failureThreshold"))
	}
	return errs
}
