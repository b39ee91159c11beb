package twiliosim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "simsecret42"
	from  = "+14155550100"
)

// app is a stand-in for Nudge's web server: it checks every webhook's
// signature and records it.
type app struct {
	t      *testing.T
	server *httptest.Server
	mu     sync.Mutex
	hooks  []hook
	// fail answers the first fail[path] requests on path with 500.
	fail map[string]int
	// twiml serves voice documents by path.
	twiml map[string]string
}

type hook struct {
	Path   string
	Form   url.Values
	SigErr error
}

func newApp(t *testing.T) *app {
	a := &app{t: t, fail: map[string]int{}, twiml: map[string]string{}}
	a.server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.server.Close)
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fullURL := a.server.URL + r.URL.RequestURI()
	sigErr := twilio.ValidateSignature(token, fullURL, r.PostForm, r.Header.Get(twilio.SignatureHeader))
	a.mu.Lock()
	a.hooks = append(a.hooks, hook{Path: r.URL.Path, Form: r.PostForm, SigErr: sigErr})
	failing := a.fail[r.URL.Path] > 0
	if failing {
		a.fail[r.URL.Path]--
	}
	doc, isVoice := a.twiml[r.URL.Path]
	a.mu.Unlock()
	switch {
	case sigErr != nil:
		http.Error(w, "bad signature", http.StatusForbidden)
	case failing:
		http.Error(w, "try later", http.StatusInternalServerError)
	case isVoice:
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, doc)
	default:
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<Response/>")
	}
}

func (a *app) url(path string) string { return a.server.URL + path }

func (a *app) hooksOn(path string) []hook {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []hook
	for _, h := range a.hooks {
		if h.Path == path {
			out = append(out, h)
		}
	}
	return out
}

type bundle struct {
	sim    *twiliosim.Sim
	server *httptest.Server
	app    *app
	sms    *twilio.SMS
}

func setup(t *testing.T, mod func(*twiliosim.Config)) *bundle {
	t.Helper()
	a := newApp(t)
	cfg := twiliosim.Config{
		AccountSID: sid, AuthToken: token, Seed: 7, Speed: 1e5,
		InboundURL: a.url(twilio.InboundPath),
	}
	if mod != nil {
		mod(&cfg)
	}
	sim := twiliosim.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, sim.Close())
	})
	sms, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, From: from, PublicURL: a.server.URL, BaseURL: srv.URL})
	require.NoError(t, err)
	return &bundle{sim: sim, server: srv, app: a, sms: sms}
}

// restClient is a twilio-go API client whose requests go to the simulator.
func (b *bundle) restClient(t *testing.T) *api.ApiService {
	t.Helper()
	target, err := url.Parse(b.server.URL)
	require.NoError(t, err)
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient:  &http.Client{Transport: rewrite{target: target}, Timeout: 5 * time.Second},
	}
	c.SetAccountSid(sid)
	return api.NewApiServiceWithClient(c)
}

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func send(t *testing.T, b *bundle, to, body string) string {
	t.Helper()
	res, err := b.sms.Send(context.Background(), &nudge.Message{AttemptID: "a", Lender: "acme", Channel: nudge.SMS, To: to, Text: body})
	require.NoError(t, err)
	return res.ProviderID
}

func TestCreateAndFetchMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.Script("+14155550123", twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	svc := b.restClient(t)
	params := &api.CreateMessageParams{}
	params.SetTo("+14155550123")
	params.SetFrom(from)
	params.SetBody("Your payment of $200 is due Friday.")
	m, err := svc.CreateMessage(params)
	require.NoError(t, err)
	require.Regexp(t, `^SM[0-9a-f]{32}$`, *m.Sid)
	require.Len(t, *m.Sid, 34)
	require.Equal(t, sid, *m.AccountSid)
	require.Equal(t, "queued", *m.Status)
	require.Equal(t, "outbound-api", *m.Direction)
	require.Equal(t, "1", *m.NumSegments)
	require.Equal(t, from, *m.From)
	require.Nil(t, m.MessagingServiceSid)
	require.Nil(t, m.ErrorCode)
	require.Equal(t, "/2010-04-01/Accounts/"+sid+"/Messages/"+*m.Sid+".json", *m.Uri)
	_, err = time.Parse(time.RFC1123Z, *m.DateCreated)
	require.NoError(t, err)

	require.NoError(t, b.sim.Idle(ctx(t)))
	got, err := svc.FetchMessage(*m.Sid, nil)
	require.NoError(t, err)
	require.Equal(t, *m.Sid, *got.Sid)
	require.Equal(t, "delivered", *got.Status)

	_, err = svc.FetchMessage("SM00000000000000000000000000000000", nil)
	var rest *client.TwilioRestError
	require.ErrorAs(t, err, &rest)
	require.Equal(t, 20404, rest.Code)
	require.Equal(t, 404, rest.Status)
}

func TestCreateMessageJSONShape(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	form := url.Values{"To": {"+14155550123"}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"}, "Body": {"我明天还款"}}
	status, body := post(t, b.server.URL+"/2010-04-01/Accounts/"+sid+"/Messages.json", sid, token, form)
	require.Equal(t, http.StatusCreated, status)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	for _, k := range []string{"sid", "account_sid", "to", "from", "messaging_service_sid", "body", "status", "num_segments", "num_media", "direction", "date_created", "date_updated", "date_sent", "uri", "error_code", "error_message", "price", "price_unit", "api_version", "subresource_uris"} {
		require.Contains(t, m, k)
	}
	require.Nil(t, m["error_code"])
	require.Nil(t, m["from"])
	require.Equal(t, "2010-04-01", m["api_version"])
}

func post(t *testing.T, target, user, pass string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestRejections(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.OptOut(from, "+14155550199")
	otherSID := "ACffffffffffffffffffffffffffffffff"
	msgs := "/2010-04-01/Accounts/" + sid + "/Messages.json"
	calls := "/2010-04-01/Accounts/" + sid + "/Calls.json"
	ok := url.Values{"To": {"+14155550123"}, "From": {from}, "Body": {"hi"}}
	with := func(base url.Values, kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string(nil), vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	call := url.Values{"To": {"+14155550123"}, "From": {from}, "Url": {"https://nudge.example.com/voice"}}
	tests := []struct {
		name       string
		path       string
		user, pass string
		form       url.Values
		status     int
		code       int
	}{
		{name: "no auth", path: msgs, form: ok, status: 401, code: 20003},
		{name: "wrong token", path: msgs, user: sid, pass: "nope", form: ok, status: 401, code: 20003},
		{name: "bad account sid pattern", path: "/2010-04-01/Accounts/AC123/Messages.json", user: sid, pass: token, form: ok, status: 404, code: 20404},
		{name: "account sid mismatch", path: "/2010-04-01/Accounts/" + otherSID + "/Messages.json", user: sid, pass: token, form: ok, status: 401, code: 20003},
		{name: "missing To", path: msgs, user: sid, pass: token, form: with(ok, "To", ""), status: 400, code: 21604},
		{name: "missing Body", path: msgs, user: sid, pass: token, form: with(ok, "Body", ""), status: 400, code: 21602},
		{name: "no sender", path: msgs, user: sid, pass: token, form: with(ok, "From", ""), status: 400, code: 21603},
		{name: "bad From", path: msgs, user: sid, pass: token, form: with(ok, "From", "+1-415"), status: 400, code: 21606},
		{name: "bad service", path: msgs, user: sid, pass: token, form: with(ok, "MessagingServiceSid", "MG12"), status: 400, code: 21701},
		{name: "bad callback", path: msgs, user: sid, pass: token, form: with(ok, "StatusCallback", "not a url"), status: 400, code: 21609},
		{name: "body too long", path: msgs, user: sid, pass: token, form: with(ok, "Body", strings.Repeat("x", 1601)), status: 400, code: 21617},
		{name: "invalid To", path: msgs, user: sid, pass: token, form: with(ok, "To", "+15555555555"), status: 400, code: 21211},
		{name: "opted out", path: msgs, user: sid, pass: token, form: with(ok, "To", "+14155550199"), status: 400, code: 21610},
		{name: "call missing To", path: calls, user: sid, pass: token, form: with(call, "To", ""), status: 400, code: 21201},
		{name: "call missing From", path: calls, user: sid, pass: token, form: with(call, "From", ""), status: 400, code: 21213},
		{name: "call missing Url", path: calls, user: sid, pass: token, form: with(call, "Url", ""), status: 400, code: 21205},
		{name: "call invalid To", path: calls, user: sid, pass: token, form: with(call, "To", "+15555555555"), status: 400, code: 21217},
		{name: "call bad event", path: calls, user: sid, pass: token, form: with(call, "StatusCallbackEvent", "exploded"), status: 400, code: 21626},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := post(t, b.server.URL+tt.path, tt.user, tt.pass, tt.form)
			require.Equal(t, tt.status, status, body)
			var e struct {
				Code     int    `json:"code"`
				Message  string `json:"message"`
				MoreInfo string `json:"more_info"`
				Status   int    `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, tt.status, e.Status)
			require.NotEmpty(t, e.Message)
			require.Contains(t, e.MoreInfo, "https://www.twilio.com/docs/errors/")
		})
	}
	status, body := post(t, b.server.URL+msgs, "", "", ok)
	require.Equal(t, 401, status)
	require.JSONEq(t, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`, body)
}

func TestSignedStatusCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name     string
		to       string
		b        twiliosim.Behaviour
		statuses []string
		code     string
	}{
		{name: "delivered", to: "+14155550111", b: twiliosim.BehaviourSilent, statuses: []string{"sent", "delivered"}},
		{name: "unreachable", to: "+14155550112", b: twiliosim.BehaviourUnreachable, statuses: []string{"sent", "undelivered"}, code: "30003"},
		{name: "unknown number", to: "+14155550113", b: twiliosim.BehaviourUnknownNumber, statuses: []string{"sent", "undelivered"}, code: "30005"},
		{name: "landline", to: "+14155550114", b: twiliosim.BehaviourLandline, statuses: []string{"failed"}, code: "30006"},
		{name: "filtered", to: "+14155550115", b: twiliosim.BehaviourFiltered, statuses: []string{"sent", "undelivered"}, code: "30007"},
		{name: "carrier error", to: "+14155550116", b: twiliosim.BehaviourCarrierError, statuses: []string{"sent", "undelivered"}, code: "30008"},
	}
	sids := map[string]string{}
	for _, tt := range tests {
		b.sim.Script(tt.to, twiliosim.Borrower{Behaviour: tt.b})
		sids[tt.name] = send(t, b, tt.to, "Your payment is due.")
	}
	require.NoError(t, b.sim.Idle(ctx(t)))
	hooks := b.app.hooksOn(twilio.StatusCallbackPath)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var statuses []string
			for _, h := range hooks {
				if h.Form.Get("MessageSid") != sids[tt.name] {
					continue
				}
				require.NoError(t, h.SigErr)
				require.Equal(t, sid, h.Form.Get("AccountSid"))
				require.Equal(t, tt.to, h.Form.Get("To"))
				require.Equal(t, from, h.Form.Get("From"))
				statuses = append(statuses, h.Form.Get("MessageStatus"))
				if h.Form.Get("MessageStatus") == tt.statuses[len(tt.statuses)-1] {
					require.Equal(t, tt.code, h.Form.Get("ErrorCode"))
				}
			}
			require.Equal(t, tt.statuses, statuses)
			m, ok := b.sim.Message(sids[tt.name])
			require.True(t, ok)
			require.Equal(t, tt.statuses[len(tt.statuses)-1], m.Status)
		})
	}
}

func TestCallbackRetriesOnServerError(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.app.fail[twilio.StatusCallbackPath] = 1
	b.sim.Script("+14155550121", twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	msgSID := send(t, b, "+14155550121", "Your payment is due.")
	d, err := b.sim.Await(ctx(t), func(d twiliosim.Delivery) bool {
		return d.SID == msgSID && d.Form.Get("MessageStatus") == "sent"
	})
	require.NoError(t, err)
	require.Equal(t, 2, d.Attempts)
	require.True(t, d.OK())
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestStopBorrowerIsOptedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const to = "+14155550131"
	b.sim.Script(to, twiliosim.Borrower{Behaviour: twiliosim.BehaviourStop})
	send(t, b, to, "Your payment of $200 is due Friday. Reply STOP to opt out.")
	d, err := b.sim.Await(ctx(t), func(d twiliosim.Delivery) bool { return d.Kind == twiliosim.KindInbound })
	require.NoError(t, err)
	require.True(t, d.OK())
	require.Equal(t, "STOP", d.Form.Get("OptOutType"))
	require.Equal(t, to, d.Form.Get("From"))
	require.Equal(t, from, d.Form.Get("To"))
	require.Equal(t, "US", d.Form.Get("FromCountry"))
	require.Regexp(t, `^SM[0-9a-f]{32}$`, d.Form.Get("MessageSid"))
	require.True(t, b.sim.OptedOut(from, to))
	require.NoError(t, b.app.hooksOn(twilio.InboundPath)[0].SigErr)

	_, err = b.sms.Send(context.Background(), &nudge.Message{Channel: nudge.SMS, To: to, Text: "Another reminder"})
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.OptOut)
	require.Equal(t, "21610", pe.Code)
	require.Equal(t, 2, b.sim.CreateCount(to))

	// START lifts the opt-out, as Twilio's Advanced Opt-Out does.
	_, d = b.sim.Inbound(to, from, "start")
	require.Equal(t, "START", d.Form.Get("OptOutType"))
	require.False(t, b.sim.OptedOut(from, to))
	send(t, b, to, "Another reminder")
	require.NoError(t, b.sim.Idle(ctx(t)))
}

func TestRepliesFollowLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name  string
		to    string
		b     twiliosim.Borrower
		body  string
		reply string // a regular expression the whole reply matches
	}{
		{name: "spanish promise", to: "+14155550141", b: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise, Language: "zh"},
			body: "Hola, su pago de $200 vence el viernes.", reply: `Pagaré el \d+ de \p{L}+|Pago 200 el viernes`},
		{name: "chinese paid", to: "+14155550142", b: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPaid, Language: "en"},
			body: "您的还款200元将于周五到期。", reply: `已还|我已经还款了`},
		{name: "undetectable uses borrower language", to: "+14155550143", b: twiliosim.Borrower{Behaviour: twiliosim.BehaviourWrongNumber, Language: "es"},
			body: "ACME 200 USD 12/05", reply: `Número equivocado|Se equivocó de número`},
		{name: "scripted reply", to: "+14155550144", b: twiliosim.Borrower{Behaviour: twiliosim.BehaviourPromise, Replies: []string{"PAY 75 MON"}},
			body: "Your payment is due.", reply: `PAY 75 MON`},
	}
	sids := map[string]string{}
	for _, tt := range tests {
		b.sim.Script(tt.to, tt.b)
		sids[tt.name] = send(t, b, tt.to, tt.body)
	}
	require.NoError(t, b.sim.Idle(ctx(t)))
	inbound := b.app.hooksOn(twilio.InboundPath)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range inbound {
				if h.Form.Get("From") == tt.to {
					require.NoError(t, h.SigErr)
					got = append(got, h.Form.Get("Body"))
				}
			}
			require.Len(t, got, 1)
			require.Regexp(t, "^(?:"+tt.reply+")$", got[0])
		})
	}
}

func TestBorrowersAreDeterministic(t *testing.T) {
	t.Parallel()
	a := twiliosim.New(twiliosim.Config{Seed: 42})
	b := twiliosim.New(twiliosim.Config{Seed: 42})
	c := twiliosim.New(twiliosim.Config{Seed: 43})
	t.Cleanup(func() {
		require.NoError(t, a.Close())
		require.NoError(t, b.Close())
		require.NoError(t, c.Close())
	})
	counts := map[twiliosim.Behaviour]int{}
	differs := false
	for i := range 2000 {
		n := fmt.Sprintf("+1415555%04d", i)
		ba, bb := a.Borrower(n), b.Borrower(n)
		require.Equal(t, ba, bb)
		counts[ba.Behaviour]++
		if c.Borrower(n).Behaviour != ba.Behaviour {
			differs = true
		}
	}
	require.True(t, differs, "another seed must give other borrowers")
	for _, w := range twiliosim.DefaultMix {
		share := float64(counts[w.Behaviour]) / 2000
		require.InDelta(t, float64(w.Weight)/100, share, 0.04, "behaviour %s", w.Behaviour)
	}
	a.Script("+14155550000", twiliosim.Borrower{Behaviour: twiliosim.BehaviourLandline})
	require.Equal(t, twiliosim.BehaviourLandline, a.Borrower("+14155550000").Behaviour)
	require.Equal(t, "+14155550000", a.Borrower("+14155550000").Number)
}

func TestCloseStopsPendingWork(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twiliosim.Config) { c.Speed = 1e-3 }) // a delivery would take weeks
	send(t, b, "+14155550151", "Your payment is due.")
	require.Error(t, b.sim.Idle(func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}()))
	require.NoError(t, b.sim.Close())
	require.NoError(t, b.sim.Idle(ctx(t)))
	require.Empty(t, b.sim.Deliveries())
}

func TestStartServesOnAddress(t *testing.T) {
	t.Parallel()
	sim := twiliosim.New(twiliosim.Config{AccountSID: sid, AuthToken: token, Speed: 1e5,
		Mix: []twiliosim.Weight{{Behaviour: twiliosim.BehaviourSilent, Weight: 1}}})
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, sim.URL())
	sms, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, From: from, PublicURL: "http://127.0.0.1:1", BaseURL: sim.URL()})
	require.NoError(t, err)
	res, err := sms.Send(context.Background(), &nudge.Message{Channel: nudge.SMS, To: "+14155550161", Text: "Your payment is due."})
	require.NoError(t, err)
	require.NotEmpty(t, res.ProviderID)
	// The app is unreachable: the callbacks are retried, then given up on.
	require.NoError(t, sim.Idle(ctx(t)))
	for _, d := range sim.Deliveries() {
		require.False(t, d.OK())
		require.Equal(t, twiliosim.DefaultCallbackAttempts, d.Attempts)
		require.Error(t, d.Err)
	}
	require.Len(t, sim.Deliveries(), 2)
}
