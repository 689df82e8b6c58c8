package app

import (
	"net/http"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// Update (a scenario's setApp) changes the model for requests that arrive afterwards: service
// time, error rate and concurrency; a request already inside keeps the old model.
func TestUpdateAppliesToNewRequests(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	a := newTestApp(t, Config{Concurrency: 1, Overflow: OverflowReject, Port: 8080}, clk)
	inside := serve(a, get("/?sleep=100"))
	waitWaiters(t, clk, 1)

	slow, err := ParseSampler("250ms")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Update(func(c *Config) { c.ServiceTime, c.ErrorRate, c.Concurrency, c.Port = slow, 1, 2, 9 }); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	if got := a.Config(); got.ErrorRate != 1 || got.Concurrency != 2 || got.Port != 8080 {
		t.Errorf("Config() = %+v, want error rate 1, concurrency 2 and the port kept at 8080", got)
	}
	// The new limit has free slots although the old one is full.
	second := serve(a, get("/"))
	waitWaiters(t, clk, 2)
	notDone(t, second, "request under the new model")
	clk.Step(100 * time.Millisecond)
	if w := done(t, inside); w.Code != http.StatusOK {
		t.Errorf("request inside during Update = %d, want 200 (old model: no errors)", w.Code)
	}
	clk.Step(150 * time.Millisecond)
	if w := done(t, second); w.Code != http.StatusInternalServerError {
		t.Errorf("request after Update = %d, want 500 (error rate 1)", w.Code)
	}
}

func TestUpdateRefusesAnInvalidModel(t *testing.T) {
	a := newTestApp(t, Config{ErrorRate: 0.1}, clocktesting.NewFakeClock(epoch))
	if err := a.Update(func(c *Config) { c.ErrorRate = 2 }); err == nil {
		t.Fatal("Update(error rate 2) error = nil, want an error")
	}
	if got := a.Config().ErrorRate; got != 0.1 {
		t.Errorf("error rate after a refused Update = %g, want 0.1", got)
	}
}
