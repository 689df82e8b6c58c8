package load

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// seqFragment carries a request's number in its target URL ("http://addr/path#~s=17") so the
// Result, which records the URL, can be matched to it. A fragment is never sent on the wire;
// own removes it from the Result again.
const seqFragment = "#~s="

// errPhaseOver ends a closed-model phase whose next request would come after its end (think
// time). Its Result is not a request and is dropped (own).
var errPhaseOver = errors.New("load: phase over")

// requestIDPrefix is the gateway.RequestIDHeader prefix of a phase's requests:
// "<stream>/<phase>/", or "<phase>/" without a stream name.
func requestIDPrefix(stream, phase string) string {
	if stream == "" {
		return phase + "/"
	}
	return stream + "/" + phase + "/"
}

// own turns vegeta's Result into the phase's: Seq becomes the number the targeter gave the
// request (also its gateway request id), the URL loses the number, and with think time the
// Result starts when the request was sent, not when its worker began to think. It returns
// false for the Result of errPhaseOver, which stands for no request.
func (r *phaseRun) own(res *vegeta.Result) bool {
	i := strings.LastIndex(res.URL, seqFragment)
	if i < 0 {
		return res.Error != errPhaseOver.Error()
	}
	seqText := res.URL[i+len(seqFragment):]
	n, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return true // not ours; check reports it
	}
	withSeq := res.URL
	res.Seq, res.URL = n, res.URL[:i]
	res.Error = strings.ReplaceAll(res.Error, withSeq, res.URL) // url.Error quotes the URL
	if r.think != nil {
		if at, ok := r.think.sentTime(n); ok && at.After(res.Timestamp) {
			res.Latency -= at.Sub(res.Timestamp)
			res.Timestamp = at
		}
	}
	return true
}

// thinker holds a closed-model phase's think time: every request after a worker's first waits
// think first. vegeta does not say which worker asks, but each of the clients workers takes
// the first tick it can while the others are busy with theirs, so the first clients requests
// go out without thinking and every later one follows an outcome.
type thinker struct {
	think   time.Duration
	clients uint64
	end     time.Time
	quit    <-chan struct{}

	mu     sync.Mutex
	asked  uint64
	sentAt map[uint64]time.Time // request number → when the targeter released it
}

// wait thinks before a request; false when the request would come after the phase's end (or
// the run ended).
func (t *thinker) wait() bool {
	t.mu.Lock()
	t.asked++
	first := t.asked <= t.clients
	t.mu.Unlock()
	if first {
		return true
	}
	if !time.Now().Add(t.think).Before(t.end) {
		return false
	}
	timer := time.NewTimer(t.think)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.quit:
		return false
	}
}

// sent records when request n left the targeter.
func (t *thinker) sent(n uint64) {
	now := time.Now()
	t.mu.Lock()
	t.sentAt[n] = now
	t.mu.Unlock()
}

// sentTime returns (and forgets) when request n left the targeter.
func (t *thinker) sentTime(n uint64) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.sentAt[n]
	delete(t.sentAt, n)
	return at, ok
}
