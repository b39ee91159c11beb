package twiliosim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	nudge "github.com/nudgehq/nudge"
)

// FaultKind names what goes wrong with one create request (a message or a
// call). The accept faults create the resource exactly as a normal request
// would and then spoil the answer; the refuse faults answer an error before
// anything is created.
type FaultKind string

// Fault kinds.
const (
	// FaultNone: the request is served normally.
	FaultNone FaultKind = ""
	// FaultAcceptDrop: the resource is created (it counts, it is delivered,
	// its callbacks are posted), then the connection is closed without an
	// answer: the client sees EOF after writing its request.
	FaultAcceptDrop FaultKind = "accept_drop"
	// FaultAcceptSlow: the resource is created, then the answer is held for
	// Faults.SlowFor (longer than any sane client timeout) before the 201 is
	// written. Close cuts the hold short by dropping the connection.
	FaultAcceptSlow FaultKind = "accept_slow"
	// FaultRefuse429: answered 429 with Twilio error 20429; nothing is created.
	FaultRefuse429 FaultKind = "refuse_429"
	// FaultRefuse500: answered 500 with Twilio error 20500; nothing is created.
	FaultRefuse500 FaultKind = "refuse_500"
	// FaultRefuse marks a refusal scripted by FailCreates with a status other
	// than 429 or 500; it cannot be drawn or scripted with ScriptFaults.
	FaultRefuse FaultKind = "refuse"
)

// DefaultSlowFor is how long a FaultAcceptSlow answer is held when
// Faults.SlowFor is zero: longer than the dispatcher's client timeout.
const DefaultSlowFor = 35 * time.Second

// FaultKinds are the kinds Faults draws from when Faults.Kinds is empty.
var FaultKinds = []FaultKind{FaultAcceptDrop, FaultAcceptSlow, FaultRefuse429, FaultRefuse500}

// Faults injects faults into a deterministic share of create requests.
//
// Each create request draws once: the draw is a hash of Config.Seed,
// Faults.Seed, the To number and how many create requests that number has
// received so far, so the same traffic meets the same faults on every run
// whatever the order in which concurrent requests arrive. A request that
// draws below Share suffers one fault, picked from Kinds by the same hash.
// Faults scripted per number (ScriptFaults, FailCreates) come first and
// replace the draw.
type Faults struct {
	// Share is the fraction of create requests (0 to 1) that suffer a fault.
	Share float64
	// Kinds are the faults drawn, with equal weight; empty means FaultKinds.
	// Kinds other than the four of FaultKinds are ignored.
	Kinds []FaultKind
	// SlowFor is how long FaultAcceptSlow holds the answer (default
	// DefaultSlowFor). It is not divided by Config.Speed.
	SlowFor time.Duration
	// Seed varies the draw independently of the borrowers' Config.Seed.
	Seed int64
}

func (f Faults) withDefaults() Faults {
	f.Share = min(max(f.Share, 0), 1)
	if f.SlowFor <= 0 {
		f.SlowFor = DefaultSlowFor
	}
	if len(f.Kinds) == 0 {
		f.Kinds = slices.Clone(FaultKinds)
	} else {
		f.Kinds = slices.DeleteFunc(slices.Clone(f.Kinds), func(k FaultKind) bool { return !slices.Contains(FaultKinds, k) })
	}
	return f
}

// draw returns the fault of the n-th create request to number.
func (f Faults) draw(seed int64, number string, n int) FaultKind {
	if f.Share <= 0 || len(f.Kinds) == 0 {
		return FaultNone
	}
	// faultSalt keeps the draw independent of the borrower generation,
	// which hashes the same seed and number with small salts.
	const faultSalt = 0x6661756c74730000
	x := hash64(seed, number, splitmix(faultSalt^uint64(f.Seed))+uint64(n))
	if float64(x>>11)/(1<<53) >= f.Share {
		return FaultNone
	}
	return f.Kinds[splitmix(x)%uint64(len(f.Kinds))]
}

// splitmix is one SplitMix64 step: it spreads the bits of x.
func splitmix(x uint64) uint64 { return nudge.Mix64(x + 0x9e3779b97f4a7c15) }

// SetFaults replaces the fault settings while the simulator runs. It is
// safe for concurrent use and applies to every create request whose fault
// has not been picked yet: those arriving after it, and those still held by
// Config.CreateDelay.
func (s *Sim) SetFaults(f Faults) {
	f = f.withDefaults()
	s.mu.Lock()
	s.faultCfg = f
	s.mu.Unlock()
}

// ScriptFaults makes the next create requests (messages or calls) to
// number suffer kinds, one each, in order; FaultNone lets one request
// through unharmed. Refusals answer 429/20429 or 500/20500. Kinds other
// than FaultNone and those of FaultKinds are ignored.
func (s *Sim) ScriptFaults(number string, kinds ...FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range kinds {
		switch k {
		case FaultNone, FaultAcceptDrop, FaultAcceptSlow:
			s.faults[number] = append(s.faults[number], fault{kind: k})
		case FaultRefuse429:
			s.faults[number] = append(s.faults[number], fault{kind: k, status: http.StatusTooManyRequests, code: 20429})
		case FaultRefuse500:
			s.faults[number] = append(s.faults[number], fault{kind: k, status: http.StatusInternalServerError, code: 20500})
		}
	}
}

// FailSender makes every create request whose From is sender answer
// 500/20500, creating nothing, until the
// simulator's clock reaches until; a zero until lifts the failure.
func (s *Sim) FailSender(sender string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.IsZero() {
		delete(s.senderDown, sender)
		return
	}
	s.senderDown[sender] = until
}

// senderFailing reports whether FailSender has sender down now.
func (s *Sim) senderFailing(sender string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.senderDown[sender]
	return ok && s.cfg.Clock.Now().Before(until)
}

// Kinds of create requests in the request log.
const (
	RequestMessage = "message" // POST …/Messages.json
	RequestCall    = "call"    // POST …/Calls.json
)

// Request is one authenticated create request the simulator received
// (one that named a To number, as CreateCount counts them), with what
// became of it.
type Request struct {
	// Time is when the request arrived (Config.Clock).
	Time time.Time
	// Kind is RequestMessage or RequestCall.
	Kind string
	// Account is the account SID the request authenticated as (the main
	// account or a subaccount).
	Account string
	// RemoteAddr is the client's end of the connection (host:port): which
	// process made the request, for a drill that kills the one that holds
	// a request in flight.
	RemoteAddr string
	// To, From and Body (messages only) are the request's parameters.
	To   string
	From string
	Body string
	// SID is the message or call created, empty when nothing was (a
	// refusal, a rejection, a request still held by CreateDelay).
	SID string
	// Fault is the fault the request suffered. An accept fault drawn for a
	// request that was then rejected (a 400) is not recorded: it did not
	// happen.
	Fault FaultKind
	// Status is the HTTP status answered, 0 when the connection was
	// dropped without an answer or the request is still being processed.
	// A held answer (FaultAcceptSlow) records 201 once the resource exists.
	Status int
	// Code is the Twilio error code of a refusal or rejection.
	Code int
	// ValidityPeriod and SmartEncoded are the message's parameters (0 and
	// false when absent or malformed).
	ValidityPeriod int
	SmartEncoded   bool
	// Timeout and TimeLimit are the call's parameters (0 when absent or
	// malformed).
	Timeout   int
	TimeLimit int
}

// Requests returns a copy of the request log: every authenticated create
// request that named a To number, in the order they arrived.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// AwaitRequest blocks until the request log holds a request satisfying
// match and returns it, or fails when ctx is done. Requests are matched
// as they are at each change (a SID and a status are set once the request
// has been processed).
func (s *Sim) AwaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		for _, r := range s.requests {
			if match(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("twiliosim: awaiting a create request: %w", ctx.Err())
		}
	}
}

// admission is a create request admitted by admit.
type admission struct {
	idx     int           // index in the request log
	fault   FaultKind     // the accept fault to apply, or FaultNone
	slowFor time.Duration // how long FaultAcceptSlow holds the answer
}

// admit logs an authenticated create request, counts it for CreateCount,
// waits out Config.CreateDelay and picks the request's fault. It answers
// refusals (and requests cut short by Close) itself and then returns false;
// otherwise the caller validates and creates, then answers with reject or
// accept.
func (s *Sim) admit(w http.ResponseWriter, req Request) (admission, bool) {
	s.mu.Lock()
	s.creates[req.To]++
	n := s.creates[req.To]
	req.Time = s.cfg.Clock.Now()
	a := admission{idx: len(s.requests)}
	s.requests = append(s.requests, req)
	s.notifyLocked()
	s.mu.Unlock()
	if !s.holdCreate() {
		s.reject(w, a, http.StatusServiceUnavailable, 20503, "Service unavailable: the simulator is closing")
		return a, false
	}
	ft, scripted := s.takeFault(req.To)
	if req.From != "" && s.senderFailing(req.From) {
		ft, scripted = fault{kind: FaultRefuse500, status: http.StatusInternalServerError, code: 20500}, true
	}
	s.mu.Lock()
	cfg := s.faultCfg
	s.mu.Unlock()
	if !scripted {
		ft = fault{kind: cfg.draw(s.cfg.Seed, req.To, n)}
		switch ft.kind {
		case FaultRefuse429:
			ft.status, ft.code = http.StatusTooManyRequests, 20429
		case FaultRefuse500:
			ft.status, ft.code = http.StatusInternalServerError, 20500
		}
	}
	if ft.status != 0 {
		s.settle(a.idx, "", ft.kind, ft.status, ft.code)
		msg := "Injected failure"
		switch ft.status {
		case http.StatusTooManyRequests:
			msg = "Too Many Requests"
		case http.StatusInternalServerError:
			msg = "Internal Server Error"
		}
		writeError(w, ft.status, ft.code, msg)
		return a, false
	}
	a.fault, a.slowFor = ft.kind, cfg.SlowFor
	return a, true
}

// reject answers an admitted request with a Twilio error; nothing was created.
func (s *Sim) reject(w http.ResponseWriter, a admission, status, code int, msg string) {
	s.settle(a.idx, "", FaultNone, status, code)
	writeError(w, status, code, msg)
}

// accept answers an admitted request whose resource sid has been created
// with resp, spoiled by the request's accept fault, if any.
func (s *Sim) accept(w http.ResponseWriter, r *http.Request, a admission, sid string, resp any) {
	switch a.fault {
	case FaultAcceptDrop:
		s.settle(a.idx, sid, a.fault, 0, 0)
		drop(w)
	case FaultAcceptSlow:
		s.settle(a.idx, sid, a.fault, http.StatusCreated, 0)
		t := time.NewTimer(a.slowFor)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client went away (or the server is closing it); the
			// answer below goes nowhere, as Twilio's would.
		case <-s.stop:
			// The resource exists: answering an error would claim it does
			// not, so the connection is dropped instead.
			s.settle(a.idx, sid, a.fault, 0, 0)
			drop(w)
			return
		}
		writeJSON(w, http.StatusCreated, resp)
	default:
		s.settle(a.idx, sid, FaultNone, http.StatusCreated, 0)
		writeJSON(w, http.StatusCreated, resp)
	}
}

// settle records what became of the idx-th request.
func (s *Sim) settle(idx int, sid string, kind FaultKind, status, code int) {
	s.mu.Lock()
	r := &s.requests[idx]
	r.SID, r.Fault, r.Status, r.Code = sid, kind, status, code
	s.notifyLocked()
	s.mu.Unlock()
}

// drop closes the connection of w without answering: the client has
// written its request and reads EOF. When the connection cannot be
// hijacked (HTTP/2), the handler aborts instead, which resets the stream.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			// Nothing to do about a failed close of a connection we abandon.
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
