package system

import (
	"context"
	"io"
	"net/http"
	"time"

	autoscalingv1alpha1 "github.com/servingsim/servingsim/stack/apis/autoscaling/v1alpha1"
	"github.com/servingsim/servingsim/stack/apis/serving"
	"github.com/servingsim/servingsim/stack/gateway"
)

// activatorProbeTimeout bounds one activator-in-path probe.
const activatorProbeTimeout = time.Second

// Values of the autoscaler's activator probe (§3.5.4).
const (
	autoscalingProbeUserAgent = "Knative-Autoscaling-Probe"
	activatorProbeValue       = "activator"
)

var probeClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}

// probeActivator is the PA reconciler's check that the activator is in the revision's request
// path before scaling to zero (§3.5.4): GET http://<rev>.<ns>:80/healthz with K-Network-Probe:
// activator must answer 200 "activator". The revision's public Service resolves through its
// Endpoints, as kube-proxy would route it.
func (s *System) probeActivator(ctx context.Context, pa *autoscalingv1alpha1.PodAutoscaler) (bool, error) {
	s.probeEndpointsOnce.Do(func() { s.probeEndpoints = gateway.NewClientEndpoints(s.Manager.GetCache()) })
	addrs, err := s.probeEndpoints.ReadyAddrs(ctx, pa.Namespace, pa.Name)
	if err != nil || len(addrs) == 0 {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, activatorProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addrs[0]+"/healthz", nil)
	if err != nil {
		return false, err
	}
	req.Host = pa.Name + "." + pa.Namespace
	req.Header.Set(serving.ProbeHeaderName, activatorProbeValue)
	req.Header.Set("User-Agent", autoscalingProbeUserAgent)
	resp, err := probeClient.Do(req)
	if err != nil {
		return false, nil //nolint:nilerr // an unreachable path is a failed probe, retried by the reconciler
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	return resp.StatusCode == http.StatusOK && string(body) == activatorProbeValue, nil
}
