package twiliosim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// APIVersion is the Twilio REST API version the simulator serves.
const APIVersion = "2010-04-01"

// MaxValidityPeriod is the largest ValidityPeriod Twilio accepts, in
// seconds (10 hours), and its default.
const MaxValidityPeriod = 36000

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	e164Pattern       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	shortCodePattern  = regexp.MustCompile(`^[0-9]{3,8}$`)
	alphaIDPattern    = regexp.MustCompile(`^[A-Za-z0-9 ]*[A-Za-z][A-Za-z0-9 ]*$`)
)

// optOutKeywords, optInKeywords and helpKeywords are Twilio's default
// Advanced Opt-Out keywords; a message matches when it is the keyword alone.
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	optInKeywords  = []string{"START", "UNSTOP", "YES"}
	helpKeywords   = []string{"HELP", "INFO"}
)

// apiError is Twilio's JSON error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg, MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), Status: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client went away; there is no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// authorize checks basic auth (the main account's or a subaccount's
// credentials) and the AccountSid in the path, which must be the account
// authenticated; it returns that account, or writes the error and returns
// false when the request must stop.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	token := s.tokenOf(user)
	if !ok || token == "" || subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return "", false
	}
	sid := r.PathValue("AccountSid")
	if !accountSIDPattern.MatchString(sid) {
		writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
		return "", false
	}
	if sid != user {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return "", false
	}
	return sid, true
}

// takeFault pops an injected failure for number, if any.
func (s *Sim) takeFault(number string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.faults[number]
	if len(fs) == 0 {
		return fault{}, false
	}
	s.faults[number] = fs[1:]
	return fs[0], true
}

func validPhone(n string) bool {
	if !e164Pattern.MatchString(n) {
		return false
	}
	p, err := phonenumbers.Parse(n, "")
	return err == nil && phonenumbers.IsValidNumber(p)
}

func validSender(from string) bool {
	return e164Pattern.MatchString(from) || shortCodePattern.MatchString(from) ||
		(len(from) <= 11 && alphaIDPattern.MatchString(from))
}

func validCallbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Message is one SMS the simulator holds, outbound or inbound.
type Message struct {
	SID                 string
	AccountSID          string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	// Direction is "outbound-api" for created messages, "inbound" for replies.
	Direction      string
	Status         string
	ErrorCode      int
	NumSegments    int
	StatusCallback string
	// ValidityPeriod is the create request's ValidityPeriod in seconds (0
	// when absent: Twilio's default of MaxValidityPeriod applies). A
	// message still queued after it fails with 30036 and is not sent.
	ValidityPeriod int
	// SmartEncoded is the create request's SmartEncoded: characters with a
	// GSM-7 look-alike are replaced when counting segments (Body keeps the
	// text as submitted).
	SmartEncoded bool
	DateCreated  time.Time
	DateUpdated  time.Time
	DateSent     time.Time
}

// senderKey is what an opt-out binds to: the Messaging Service, else the number.
func (m *Message) senderKey() string {
	if m.MessagingServiceSID != "" {
		return m.MessagingServiceSID
	}
	return m.From
}

// messageJSON is the message resource as Twilio returns it.
type messageJSON struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           *string           `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// errorMessages describe the carrier error codes the simulator produces.
var errorMessages = map[int]string{
	30003: "Unreachable destination handset",
	30005: "Unknown destination handset",
	30006: "Landline or unreachable carrier",
	30007: "Message filtered",
	30008: "Unknown error",
	30036: "Validity Period Expired",
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rfc2822(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func (m *Message) json() messageJSON {
	uri := fmt.Sprintf("/%s/Accounts/%s/Messages/%s", APIVersion, m.AccountSID, m.SID)
	j := messageJSON{
		AccountSID:          m.AccountSID,
		APIVersion:          APIVersion,
		Body:                m.Body,
		DateCreated:         rfc2822(m.DateCreated),
		DateUpdated:         rfc2822(m.DateUpdated),
		Direction:           m.Direction,
		From:                optional(m.From),
		MessagingServiceSID: optional(m.MessagingServiceSID),
		NumMedia:            "0",
		NumSegments:         fmt.Sprint(m.NumSegments),
		SID:                 m.SID,
		Status:              m.Status,
		SubresourceURIs:     map[string]string{"media": uri + "/Media.json"},
		To:                  m.To,
		URI:                 uri + ".json",
	}
	if !m.DateSent.IsZero() {
		j.DateSent = optional(rfc2822(m.DateSent))
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		j.ErrorCode = &code
		j.ErrorMessage = optional(errorMessages[code])
	}
	return j
}

func (s *Sim) createMessage(w http.ResponseWriter, r *http.Request) {
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
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	}
	from, service, body := f.Get("From"), f.Get("MessagingServiceSid"), f.Get("Body")
	validity, validityErr := intParam(f, "ValidityPeriod")
	smart, smartErr := boolParam(f, "SmartEncoded")
	a, ok := s.admit(w, Request{Kind: RequestMessage, Account: acct, RemoteAddr: r.RemoteAddr, To: to, From: from, Body: body,
		ValidityPeriod: validity, SmartEncoded: smart})
	if !ok {
		return
	}
	callback := f.Get("StatusCallback")
	switch {
	case body == "" && f.Get("MediaUrl") == "" && f.Get("ContentSid") == "":
		s.reject(w, a, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case len([]rune(body)) > 1600:
		s.reject(w, a, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	case from == "" && service == "":
		s.reject(w, a, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
		return
	case service != "" && !serviceSIDPattern.MatchString(service):
		s.reject(w, a, http.StatusBadRequest, 21701, fmt.Sprintf("The Messaging Service Sid %s is invalid.", service))
		return
	case from != "" && (!validSender(from) || (len(s.cfg.Numbers) > 0 && !slices.Contains(s.cfg.Numbers, from))):
		s.reject(w, a, http.StatusBadRequest, 21606, fmt.Sprintf("The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from))
		return
	case callback != "" && !validCallbackURL(callback):
		s.reject(w, a, http.StatusBadRequest, 21609, fmt.Sprintf("The StatusCallback URL %s is not a valid URL.", callback))
		return
	case validityErr != nil || (f.Has("ValidityPeriod") && validity < 1):
		s.reject(w, a, http.StatusBadRequest, 90014, fmt.Sprintf("ValidityPeriod %q should be a positive integer number of seconds.", f.Get("ValidityPeriod")))
		return
	case validity > MaxValidityPeriod:
		s.reject(w, a, http.StatusBadRequest, 90007, fmt.Sprintf("ValidityPeriod %d is out of range: it must be between 1 and %d seconds.", validity, MaxValidityPeriod))
		return
	case smartErr != nil:
		s.reject(w, a, http.StatusBadRequest, 20001, fmt.Sprintf("SmartEncoded %q is not a boolean: it must be true or false.", f.Get("SmartEncoded")))
		return
	case !validPhone(to):
		s.reject(w, a, http.StatusBadRequest, 21211, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	}
	segments := Segments(body)
	if smart {
		segments = Segments(smartEncode(body))
	}
	now := s.cfg.Clock.Now()
	m := &Message{
		SID:                 newSID("SM"),
		AccountSID:          acct,
		To:                  to,
		From:                from,
		MessagingServiceSID: service,
		Body:                body,
		Direction:           "outbound-api",
		Status:              "queued",
		NumSegments:         segments,
		StatusCallback:      callback,
		ValidityPeriod:      validity,
		SmartEncoded:        smart,
		DateCreated:         now,
		DateUpdated:         now,
	}
	s.mu.Lock()
	if s.optOuts[m.senderKey()+"|"+to] {
		s.mu.Unlock()
		s.reject(w, a, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	}
	s.messages[m.SID] = m
	s.msgOrder = append(s.msgOrder, m.SID)
	resp := m.json()
	s.mu.Unlock()
	s.notify()
	s.spawn(func() { s.runMessage(m.SID) })
	s.accept(w, r, a, m.SID, resp)
}

// intParam parses the optional integer form parameter key (0 when absent
// or empty).
func intParam(f url.Values, key string) (int, error) {
	v := strings.TrimSpace(f.Get(key))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("twiliosim: %s %q is not an integer: %w", key, v, err)
	}
	return n, nil
}

// boolParam parses the optional boolean form parameter key ("true" or
// "false" in any case; false when absent or empty).
func boolParam(f url.Values, key string) (bool, error) {
	switch v := strings.ToLower(strings.TrimSpace(f.Get(key))); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("twiliosim: %s %q is not a boolean", key, v)
	}
}

func (s *Sim) fetchMessage(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.authorize(w, r)
	if !ok {
		return
	}
	sid := strings.TrimSuffix(r.PathValue("Sid"), ".json")
	s.mu.Lock()
	m, ok := s.messages[sid]
	ok = ok && m.AccountSID == acct
	var resp messageJSON
	if ok {
		resp = m.json()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
