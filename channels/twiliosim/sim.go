package twiliosim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	nudge "github.com/nudgehq/nudge"
)

// Defaults for Config.
const (
	// DefaultAccountSID and DefaultAuthToken are the simulator's credentials
	// when none are configured (alphanumeric, as twilio-go requires).
	DefaultAccountSID = "AC00000000000000000000000000000000"
	DefaultAuthToken  = "simtoken0000000000000000000000000"
	// DefaultServiceNumber is the number a Messaging Service sends from when
	// Config.ServiceNumbers names none.
	DefaultServiceNumber = "+14155550100"
	// DefaultCallbackAttempts is how many times a webhook is posted before
	// the simulator gives up on it.
	DefaultCallbackAttempts = 3
)

// Delays at Speed 1. Every delay is divided by Config.Speed.
const (
	sentDelay     = 500 * time.Millisecond
	finalDelay    = 2 * time.Second
	replyDelay    = 5 * time.Second
	ringDelay     = 2 * time.Second
	answerDelay   = 4 * time.Second
	retryBackoff  = time.Second
	callbackLimit = 10 * time.Second
	// maxDelay caps a scaled delay so a tiny Speed cannot overflow a Duration.
	maxDelay = 365 * 24 * time.Hour
)

// Config configures a simulator. The zero value works.
type Config struct {
	// AccountSID and AuthToken are the credentials clients must present
	// (basic auth); the token also signs the webhooks.
	AccountSID string
	AuthToken  string
	// Subaccounts are more accounts the simulator accepts, by account SID
	// with their auth tokens (Twilio subaccounts): a request authenticated
	// as one creates and lists that account's messages and calls only, and
	// their webhooks carry its AccountSid and are signed with its token.
	Subaccounts map[string]string
	// Seed makes generated borrowers deterministic.
	Seed int64
	// InboundURL receives borrower replies as inbound-SMS webhooks (the
	// app's PublicURL + "/webhooks/twilio/sms/inbound"); empty keeps replies
	// in Messages only.
	InboundURL string
	// Speed divides every simulated delay (default 1: a message is delivered
	// after about 2.5s and answered 5s later); tests use a large value.
	Speed float64
	// Clock stamps resources and webhooks (default nudge.SystemClock).
	Clock nudge.Clock
	// HTTPClient posts webhooks and fetches TwiML (default: a 10s timeout).
	HTTPClient *http.Client
	// CallbackAttempts bounds the posts of one webhook (default 3).
	CallbackAttempts int
	// Numbers, when set, are the only From numbers accepted (21606 otherwise).
	Numbers []string
	// ServiceNumbers maps a Messaging Service SID to the number it sends
	// from; unknown services send from DefaultServiceNumber.
	ServiceNumbers map[string]string
	// Mix weighs the behaviours of generated borrowers (default DefaultMix).
	Mix []Weight
	// Languages are drawn for generated borrowers (default DefaultLanguages).
	Languages []string
	// Keys are the keys pressed at successive <Gather> verbs per behaviour,
	// separated by spaces (default DefaultKeys).
	Keys map[Behaviour]string
	// DialStatus is how a <Dial> ends, posted as DialCallStatus to its
	// action URL when it has one: completed (default: the number dialed
	// answered), answered, busy, no-answer, failed or canceled.
	DialStatus string
	// CreateDelay holds every authenticated create request (message or
	// call) for this long after it is counted by CreateCount and before it
	// is answered, simulating a slow provider: a test can stop the client
	// while its request is in flight. The request is then processed as
	// usual, even when the client has gone away, as a real provider that
	// received it would. It is not divided by Speed; Close cuts it short
	// (the request is then answered 503). Zero means no delay.
	CreateDelay time.Duration
	// QueueDelay is how long an outbound message waits in the simulated
	// outgoing queue before it is sent (default 500ms at Speed 1, divided
	// by Speed like every simulated delay). A message whose ValidityPeriod
	// is shorter never leaves the queue: it fails with 30036 when its
	// validity period ends and is not delivered.
	QueueDelay time.Duration
	// Propensity, when set, is the hidden borrower model of generated
	// borrowers (see Propensity); nil leaves them to their Behaviour.
	Propensity *Propensity
	// Faults makes a seeded share of create requests suffer a fault (a
	// dropped or held answer, or a refusal); SetFaults changes it while
	// the simulator runs. The zero value injects nothing.
	Faults Faults
	// Hours gives generated borrowers a hidden best hour (hours.go); the
	// zero value is off.
	Hours Hours
}

func (c Config) withDefaults() Config {
	if c.AccountSID == "" {
		c.AccountSID = DefaultAccountSID
	}
	if c.AuthToken == "" {
		c.AuthToken = DefaultAuthToken
	}
	if c.Speed <= 0 {
		c.Speed = 1
	}
	if c.Clock == nil {
		c.Clock = nudge.SystemClock
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: callbackLimit}
	}
	if c.CallbackAttempts <= 0 {
		c.CallbackAttempts = DefaultCallbackAttempts
	}
	if c.Mix == nil {
		c.Mix = DefaultMix
	}
	if c.Languages == nil {
		c.Languages = DefaultLanguages
	}
	if c.DialStatus == "" {
		c.DialStatus = "completed"
	}
	if c.Keys == nil {
		c.Keys = DefaultKeys
	}
	if c.QueueDelay <= 0 {
		c.QueueDelay = sentDelay
	}
	c.Faults = c.Faults.withDefaults()
	c.Hours = c.Hours.withDefaults()
	return c
}

// Sim is a local Twilio. Create it with New, serve it with Start or as an
// http.Handler, and Close it to stop the simulated borrowers.
type Sim struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	messages   map[string]*Message
	msgOrder   []string
	calls      map[string]*Call
	callOrder  []string
	scripts    map[string]Borrower
	optOuts    map[string]bool // senderKey + "|" + number
	creates    map[string]int  // To → create requests
	replies    map[string]int  // borrower number → replies sent
	gathers    map[string]int  // borrower number → gathers answered
	deliveries []Delivery
	faults     map[string][]fault
	senderDown map[string]time.Time
	faultCfg   Faults
	requests   []Request
	pending    int
	changed    chan struct{}
	closed     bool

	stop   chan struct{}
	wg     sync.WaitGroup
	server *http.Server
	addr   string
}

// fault is one scripted fault: a refusal answered with status and code,
// or an accept fault (status and code unused).
type fault struct {
	kind   FaultKind
	status int
	code   int
}

// New returns a simulator for cfg.
func New(cfg Config) *Sim {
	s := &Sim{
		cfg:        cfg.withDefaults(),
		messages:   make(map[string]*Message),
		calls:      make(map[string]*Call),
		scripts:    make(map[string]Borrower),
		optOuts:    make(map[string]bool),
		creates:    make(map[string]int),
		replies:    make(map[string]int),
		gathers:    make(map[string]int),
		faults:     make(map[string][]fault),
		senderDown: make(map[string]time.Time),
		changed:    make(chan struct{}),
		stop:       make(chan struct{}),
	}
	s.faultCfg = s.cfg.Faults
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", s.createMessage)
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages.json", s.listMessages)
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Calls.json", s.listCalls)
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}", s.fetchMessage)
	s.mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Calls.json", s.createCall)
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}", s.fetchCall)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
	})
	return s
}

// AccountSID returns the account the simulator accepts.
func (s *Sim) AccountSID() string { return s.cfg.AccountSID }

// AuthToken returns the auth token the simulator accepts and signs with.
func (s *Sim) AuthToken() string { return s.cfg.AuthToken }

// tokenOf is the auth token of account sid (the main account's or a
// subaccount's); "" when the simulator does not know the account.
func (s *Sim) tokenOf(sid string) string {
	if sid == s.cfg.AccountSID {
		return s.cfg.AuthToken
	}
	return s.cfg.Subaccounts[sid]
}

// ServeHTTP serves the Twilio REST API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start listens on addr ("127.0.0.1:0" picks a port) and serves in the
// background; URL returns the base URL to configure as twilio.base_url.
func (s *Sim) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("twiliosim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.server = srv
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Serve returns http.ErrServerClosed after Close; nothing to report.
		_ = srv.Serve(ln)
	}()
	return nil
}

// URL returns "http://host:port" once Start has succeeded, or "".
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return ""
	}
	return "http://" + s.addr
}

// Close stops the server (if started) and every simulated borrower, and
// waits for them. Work not yet done is dropped.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.server
	close(s.stop)
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if e := srv.Shutdown(ctx); e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = fmt.Errorf("twiliosim: shutdown: %w", e)
		}
	}
	s.wg.Wait()
	return err
}

// Script fixes the borrower behind number, replacing the generated one.
func (s *Sim) Script(number string, b Borrower) {
	b.Number = number
	s.mu.Lock()
	s.scripts[number] = b
	s.mu.Unlock()
}

// Borrower returns the borrower behind number: the scripted one, or one
// generated deterministically from the seed and the number.
func (s *Sim) Borrower(number string) Borrower {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.borrowerLocked(number)
}

func (s *Sim) borrowerLocked(number string) Borrower {
	if b, ok := s.scripts[number]; ok {
		return b
	}
	b := s.cfg.Hours.withHours(generateBorrower(s.cfg.Seed, number, s.cfg.Mix, s.cfg.Languages))
	b.model = s.cfg.Propensity
	return b
}

// FailCreates makes the next n create requests (messages or calls) to
// number fail with the HTTP status and Twilio code given (for example 429
// and 20429, or 500 and 20500), before any other check: nothing is
// created. The requests are logged with FaultRefuse429 or FaultRefuse500
// for those two statuses and FaultRefuse for any other. Scripted faults
// (FailCreates and ScriptFaults) queue up per number in the order given
// and take precedence over the seeded draw of Config.Faults.
func (s *Sim) FailCreates(number string, n, status, code int) {
	kind := FaultRefuse
	switch status {
	case http.StatusTooManyRequests:
		kind = FaultRefuse429
	case http.StatusInternalServerError:
		kind = FaultRefuse500
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[number] = append(s.faults[number], fault{kind: kind, status: status, code: code})
	}
}

// OptOut records that number replied STOP to sender (a From number or a
// Messaging Service SID): later messages from it answer 21610.
func (s *Sim) OptOut(sender, number string) {
	s.mu.Lock()
	s.optOuts[sender+"|"+number] = true
	s.mu.Unlock()
	s.notify()
}

// OptedOut reports whether number opted out of sender.
func (s *Sim) OptedOut(sender, number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.optOuts[sender+"|"+number]
}

// CreateCount returns how many authenticated create requests (messages
// and calls, accepted, refused, rejected or dropped) named number as To.
func (s *Sim) CreateCount(number string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates[number]
}

// Messages returns copies of every message, outbound and inbound, in the
// order they were created. It includes every message the simulator
// accepted, also those whose answer was dropped or held (FaultAcceptDrop,
// FaultAcceptSlow): this is what reached the provider.
func (s *Sim) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.msgOrder))
	for _, sid := range s.msgOrder {
		out = append(out, *s.messages[sid])
	}
	return out
}

// Message returns a copy of the message with the SID, if any.
func (s *Sim) Message(sid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[sid]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Calls returns copies of every call in the order they were created,
// including those whose answer was dropped or held.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.callOrder))
	for _, sid := range s.callOrder {
		out = append(out, s.calls[sid].clone())
	}
	return out
}

// Call returns a copy of the call with the SID, if any.
func (s *Sim) Call(sid string) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[sid]
	if !ok {
		return Call{}, false
	}
	return c.clone(), true
}

// Deliveries returns every webhook the simulator posted (or gave up on),
// in the order they finished.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	copy(out, s.deliveries)
	return out
}

// Idle blocks until no simulated work is pending (every callback posted,
// every reply sent, every call ended) or ctx is done.
func (s *Sim) Idle(ctx context.Context) error {
	for {
		s.mu.Lock()
		pending, ch := s.pending, s.changed
		s.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("twiliosim: waiting for idle with %d jobs pending: %w", pending, ctx.Err())
		}
	}
}

// Await blocks until a delivery satisfying match has been recorded (earlier
// ones count) and returns it, or fails when ctx is done.
func (s *Sim) Await(ctx context.Context, match func(Delivery) bool) (Delivery, error) {
	seen := 0
	for {
		s.mu.Lock()
		ds, ch := s.deliveries[seen:], s.changed
		for _, d := range ds {
			if match(d) {
				s.mu.Unlock()
				return d, nil
			}
		}
		seen += len(ds)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Delivery{}, fmt.Errorf("twiliosim: awaiting a delivery: %w", ctx.Err())
		}
	}
}

// notify wakes everyone waiting in Idle or Await.
func (s *Sim) notify() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// spawn runs job in the background, counted by Idle. It does nothing once
// the simulator is closed.
func (s *Sim) spawn(job func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			s.pending--
			s.notifyLocked()
			s.mu.Unlock()
			s.wg.Done()
		}()
		job()
	}()
}

// holdCreate waits out Config.CreateDelay; it returns false when the
// simulator closed meanwhile (admit then answers 503).
func (s *Sim) holdCreate() bool {
	if s.cfg.CreateDelay <= 0 {
		return true
	}
	t := time.NewTimer(s.cfg.CreateDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

// wait sleeps for d scaled by Speed; it returns false if the simulator closed.
func (s *Sim) wait(d time.Duration) bool {
	scaled := float64(d) / s.cfg.Speed
	if scaled > float64(maxDelay) {
		scaled = float64(maxDelay)
	}
	t := time.NewTimer(time.Duration(scaled))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

// ctx returns a context canceled when the simulator closes.
func (s *Sim) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
