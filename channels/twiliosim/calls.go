package twiliosim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Call is one outbound call the simulator holds.
type Call struct {
	SID        string
	AccountSID string
	To         string
	From       string
	// URL and Method fetch the call's TwiML; Twiml is inline TwiML instead.
	URL    string
	Method string
	Twiml  string
	// StatusCallback receives the events in StatusCallbackEvents
	// ("completed" only when none were asked for).
	StatusCallback       string
	StatusCallbackMethod string
	StatusCallbackEvents []string
	// MachineDetection is "Enable", "DetectMessageEnd" or "".
	MachineDetection string
	// Timeout is the create request's ring time in seconds (0 when absent:
	// Twilio's default of 60 applies). A borrower who would pick up later
	// than that does not answer (no-answer).
	Timeout int
	// TimeLimit is the create request's maximum call length in seconds (0
	// when absent). It is recorded, not enforced.
	TimeLimit int
	Status    string
	// AnsweredBy is set when MachineDetection was asked for and the call was answered.
	AnsweredBy string
	// Duration is in seconds from answer to end, set when the call ends.
	Duration int
	// Said collects the text of every <Say> the borrower heard.
	Said []string
	// Inputs are the digits or speech the borrower gave, one per answered <Gather>.
	Inputs []string
	// Dialed are the numbers of the <Dial> verbs the call reached, in order.
	Dialed []string
	// Error describes why the conversation stopped early (a TwiML fetch failed).
	Error       string
	DateCreated time.Time
	DateUpdated time.Time
	// StartTime is when the call was dialed (it left the queue), as Twilio
	// sets start_time for every call dialed, answered or not.
	StartTime time.Time
	// EndTime is when the call ended.
	EndTime time.Time
	// answeredAt is when the call was answered (zero if it was not).
	answeredAt time.Time
}

// MaxTimeout is the longest ring time (Timeout) Twilio accepts, in seconds.
const MaxTimeout = 600

func (c *Call) clone() Call {
	out := *c
	out.StatusCallbackEvents = slices.Clone(c.StatusCallbackEvents)
	out.Said = slices.Clone(c.Said)
	out.Inputs = slices.Clone(c.Inputs)
	out.Dialed = slices.Clone(c.Dialed)
	return out
}

// callJSON is the call resource as Twilio returns it.
type callJSON struct {
	AccountSID      string            `json:"account_sid"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	CallerName      *string           `json:"caller_name"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	Direction       string            `json:"direction"`
	Duration        *string           `json:"duration"`
	EndTime         *string           `json:"end_time"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	GroupSID        *string           `json:"group_sid"`
	ParentCallSID   *string           `json:"parent_call_sid"`
	PhoneNumberSID  *string           `json:"phone_number_sid"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	QueueTime       string            `json:"queue_time"`
	SID             string            `json:"sid"`
	StartTime       *string           `json:"start_time"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	TrunkSID        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
}

func (c *Call) json() callJSON {
	uri := fmt.Sprintf("/%s/Accounts/%s/Calls/%s", APIVersion, c.AccountSID, c.SID)
	j := callJSON{
		AccountSID:    c.AccountSID,
		AnsweredBy:    optional(c.AnsweredBy),
		APIVersion:    APIVersion,
		DateCreated:   rfc2822(c.DateCreated),
		DateUpdated:   rfc2822(c.DateUpdated),
		Direction:     "outbound-api",
		From:          c.From,
		FromFormatted: c.From,
		PriceUnit:     "USD",
		QueueTime:     "0",
		SID:           c.SID,
		Status:        c.Status,
		SubresourceURIs: map[string]string{
			"notifications": uri + "/Notifications.json",
			"recordings":    uri + "/Recordings.json",
			"events":        uri + "/Events.json",
		},
		To:          c.To,
		ToFormatted: c.To,
		URI:         uri + ".json",
	}
	if !c.StartTime.IsZero() {
		j.StartTime = optional(rfc2822(c.StartTime))
	}
	if !c.EndTime.IsZero() {
		j.EndTime = optional(rfc2822(c.EndTime))
		j.Duration = optional(fmt.Sprint(c.Duration))
	}
	return j
}

var callEvents = []string{"initiated", "ringing", "answered", "completed"}

func (s *Sim) createCall(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Invalid form body")
		return
	}
	f := r.PostForm
	to := strings.TrimSpace(f.Get("To"))
	if to == "" {
		writeError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	}
	from, target, twiml := f.Get("From"), f.Get("Url"), f.Get("Twiml")
	timeout, timeoutErr := intParam(f, "Timeout")
	timeLimit, timeLimitErr := intParam(f, "TimeLimit")
	a, ok := s.admit(w, Request{Kind: RequestCall, Account: acct, RemoteAddr: r.RemoteAddr, To: to, From: from, Timeout: timeout, TimeLimit: timeLimit})
	if !ok {
		return
	}
	method := strings.ToUpper(f.Get("Method"))
	if method == "" {
		method = http.MethodPost
	}
	cbMethod := strings.ToUpper(f.Get("StatusCallbackMethod"))
	if cbMethod == "" {
		cbMethod = http.MethodPost
	}
	events := f["StatusCallbackEvent"]
	switch {
	case from == "":
		s.reject(w, a, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case !validSender(from) || (len(s.cfg.Numbers) > 0 && !slices.Contains(s.cfg.Numbers, from)):
		s.reject(w, a, http.StatusBadRequest, 21210, fmt.Sprintf("The source phone number provided, %s, is not yet verified for your account.", from))
		return
	case target == "" && twiml == "" && f.Get("ApplicationSid") == "":
		s.reject(w, a, http.StatusBadRequest, 21205, "A 'Url', 'Twiml' or 'ApplicationSid' parameter is required.")
		return
	case target != "" && !validCallbackURL(target):
		s.reject(w, a, http.StatusBadRequest, 21205, fmt.Sprintf("Url is not a valid URL: %s", target))
		return
	case method != http.MethodGet && method != http.MethodPost, cbMethod != http.MethodGet && cbMethod != http.MethodPost:
		s.reject(w, a, http.StatusBadRequest, 21207, "Method and StatusCallbackMethod must be GET or POST.")
		return
	case f.Get("StatusCallback") != "" && !validCallbackURL(f.Get("StatusCallback")):
		s.reject(w, a, http.StatusBadRequest, 21609, fmt.Sprintf("The StatusCallback URL %s is not a valid URL.", f.Get("StatusCallback")))
		return
	case timeoutErr != nil || (f.Has("Timeout") && (timeout < 1 || timeout > MaxTimeout)):
		s.reject(w, a, http.StatusBadRequest, 20001, fmt.Sprintf("Timeout %q must be an integer number of seconds between 1 and %d.", f.Get("Timeout"), MaxTimeout))
		return
	case timeLimitErr != nil || (f.Has("TimeLimit") && timeLimit < 1):
		s.reject(w, a, http.StatusBadRequest, 20001, fmt.Sprintf("TimeLimit %q must be a positive integer number of seconds.", f.Get("TimeLimit")))
		return
	case !validPhone(to):
		s.reject(w, a, http.StatusBadRequest, 21217, fmt.Sprintf("Phone number %s does not appear to be valid.", to))
		return
	}
	for _, e := range events {
		if !slices.Contains(callEvents, e) {
			s.reject(w, a, http.StatusBadRequest, 21626, fmt.Sprintf("Invalid StatusCallbackEvent %q.", e))
			return
		}
	}
	if len(events) == 0 {
		events = []string{"completed"}
	}
	now := s.cfg.Clock.Now()
	c := &Call{
		SID: newSID("CA"), AccountSID: acct, To: to, From: from,
		URL: target, Method: method, Twiml: twiml,
		StatusCallback: f.Get("StatusCallback"), StatusCallbackMethod: cbMethod, StatusCallbackEvents: events,
		MachineDetection: f.Get("MachineDetection"),
		Timeout:          timeout, TimeLimit: timeLimit,
		Status: "queued", DateCreated: now, DateUpdated: now,
	}
	s.mu.Lock()
	s.calls[c.SID] = c
	s.callOrder = append(s.callOrder, c.SID)
	resp := c.json()
	s.mu.Unlock()
	s.notify()
	s.spawn(func() { s.runCall(c.SID) })
	s.accept(w, r, a, c.SID, resp)
}

func (s *Sim) fetchCall(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authorize(w, r)
	if !ok {
		return
	}
	sid := strings.TrimSuffix(r.PathValue("Sid"), ".json")
	s.mu.Lock()
	c, ok := s.calls[sid]
	ok = ok && c.AccountSID == acct
	var resp callJSON
	if ok {
		resp = c.json()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
