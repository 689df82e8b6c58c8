package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/servingsim/servingsim/harness"
	"github.com/servingsim/servingsim/harness/load"
	servingv1 "github.com/servingsim/servingsim/stack/apis/serving/v1"
)

// loadPhases turns a stream's phases into harness/load phases (vegeta pacers underneath).
func loadPhases(st Stream) ([]load.Phase, error) {
	out := make([]load.Phase, 0, len(st.Phases))
	for i, ph := range st.Phases {
		switch {
		case ph.Constant != nil:
			out = append(out, load.Constant{Rate: ph.Constant.Rate.PerSecond(), Duration: ph.Constant.Duration.D()})
		case ph.Ramp != nil:
			out = append(out, load.Ramp{From: ph.Ramp.From.PerSecond(), To: ph.Ramp.To.PerSecond(), Duration: ph.Ramp.Duration.D()})
		case ph.Step != nil:
			p := ph.Step
			out = append(out, load.Step{From: p.From.PerSecond(), To: p.To.PerSecond(), Steps: p.Steps, StepDuration: p.Duration.D() / time.Duration(p.Steps)})
		case ph.Sine != nil:
			p := ph.Sine
			out = append(out, load.Sine{Mean: p.Mean.PerSecond(), Amp: p.Amplitude.PerSecond(), Period: p.Period.D(), Duration: p.Duration.D()})
		case ph.Burst != nil:
			out = append(out, load.Burst{Requests: ph.Burst.Requests, Within: ph.Burst.Within.D()})
		case ph.Idle != nil:
			out = append(out, load.Idle{Duration: ph.Idle.Duration.D()})
		case ph.Concurrent != nil:
			out = append(out, load.Concurrent{Clients: ph.Concurrent.Clients, Think: ph.Concurrent.Think.D(), Duration: ph.Concurrent.Duration.D()})
		case ph.Trace != nil:
			arrivals := make([]time.Duration, len(ph.Trace.Arrivals))
			for j, a := range ph.Trace.Arrivals {
				arrivals[j] = a.D()
			}
			out = append(out, load.Trace{Arrivals: arrivals})
		default:
			return nil, fmt.Errorf("phases[%d]: no phase kind set", i)
		}
	}
	return out, nil
}

// streamTarget resolves where a stream's requests go: the gateway listener and the Host.
// External hosts come from the Route's status (its URL, or the tag's URL); cluster-local ones
// are name.namespace.svc.cluster.local (tag-name... for a tag) on the internal listener (§1.8).
func streamTarget(ctx context.Context, st *harness.Stack, ns string, t Target) (load.Target, string, error) {
	lt := load.Target{Path: t.Path}
	if len(t.Headers) > 0 {
		lt.Header = http.Header{}
		for k, v := range t.Headers {
			lt.Header.Set(k, v)
		}
	}
	name := t.Service
	if t.Tag != "" {
		name = t.Tag + "-" + t.Service
	}
	if t.ClusterLocal {
		lt.Host = name + "." + ns + ".svc.cluster.local"
		return lt, st.System.InternalGatewayAddress(), nil
	}
	route := &servingv1.Route{}
	if err := st.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: t.Service}, route); err != nil {
		return lt, "", fmt.Errorf("route of %s: %w", t.Service, err)
	}
	for _, tt := range route.Status.Traffic {
		if t.Tag != "" && tt.Tag == t.Tag && tt.URL != "" {
			h, err := urlHost(tt.URL)
			lt.Host = h
			return lt, st.System.GatewayAddress(), err
		}
	}
	h, err := urlHost(route.Status.URL)
	if err != nil {
		return lt, "", fmt.Errorf("route %s has no URL yet: %w", t.Service, err)
	}
	if t.Tag != "" { // a tag not routed yet: Knative's tag host, tag-name.<rest of the host>
		h = t.Tag + "-" + h
	}
	lt.Host = h
	addr := st.System.GatewayAddress()
	if strings.HasSuffix(h, ".svc.cluster.local") {
		addr = st.System.InternalGatewayAddress()
	}
	return lt, addr, nil
}

func urlHost(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("no host in URL %q", u)
	}
	return p.Host, nil
}
