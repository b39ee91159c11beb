package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	nudge "github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

// voiceApp stands in for Nudge's web server: it answers TwiML fetches with a
// goodbye and records every signed request it gets.
type voiceApp struct {
	mu    sync.Mutex
	paths []string
	bad   int
	url   string
}

func (a *voiceApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.paths = append(a.paths, r.URL.Path)
	if twilio.ValidateSignature(testToken, a.url+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)) != nil {
		a.bad++
	}
	a.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, twilio.VoiceStatusSuffix) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>Goodbye.</Say><Hangup/></Response>`))
}

type voiceBundle struct {
	sim   *twiliosim.Sim
	app   *voiceApp
	voice *twilio.Voice
}

func setupVoice(t *testing.T, opts ...twilio.VoiceOption) *voiceBundle {
	t.Helper()
	sim := twiliosim.New(twiliosim.Config{AccountSID: testSID, AuthToken: testToken, Speed: 1e6})
	api := httptest.NewServer(sim)
	app := &voiceApp{}
	web := httptest.NewServer(app)
	app.url = web.URL
	t.Cleanup(func() {
		require.NoError(t, sim.Close())
		api.Close()
		web.Close()
	})
	cfg := validConfig()
	cfg.BaseURL, cfg.PublicURL = api.URL, web.URL+"/"
	token := func(m *nudge.Message) (string, error) { return "tok-" + m.AttemptID, nil }
	v, err := twilio.NewVoice(cfg, token, opts...)
	require.NoError(t, err)
	return &voiceBundle{sim: sim, app: app, voice: v}
}

func call(to string) *nudge.Message {
	return &nudge.Message{AttemptID: "att-7", Lender: "acme", AccountID: "A-1", Channel: nudge.Voice, To: to, Locale: "en", Text: "Hello."}
}

func TestVoiceSendPlacesCall(t *testing.T) {
	t.Parallel()
	b := setupVoice(t)
	b.sim.Script("+14155550150", twiliosim.Borrower{Call: twiliosim.CallHuman})
	res, err := b.voice.Send(context.Background(), call("+14155550150"))
	require.NoError(t, err)
	require.Regexp(t, `^CA[0-9a-f]{32}$`, res.ProviderID)
	require.Equal(t, nudge.AttemptSent, res.Status)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.sim.Idle(ctx))
	c, ok := b.sim.Call(res.ProviderID)
	require.True(t, ok)
	require.Equal(t, "+14155550100", c.From)
	require.Equal(t, b.app.url+"/webhooks/twilio/voice/tok-att-7", c.URL)
	require.Equal(t, http.MethodPost, c.Method)
	require.Equal(t, b.app.url+"/webhooks/twilio/voice/tok-att-7/status", c.StatusCallback)
	require.Equal(t, []string{"initiated", "ringing", "answered", "completed"}, c.StatusCallbackEvents)
	require.Equal(t, "DetectMessageEnd", c.MachineDetection)
	require.Equal(t, "human", c.AnsweredBy)
	require.Equal(t, "completed", c.Status)
	require.Equal(t, []string{"Goodbye."}, c.Said)
	require.Empty(t, c.Error)

	b.app.mu.Lock()
	defer b.app.mu.Unlock()
	require.Zero(t, b.app.bad, "every webhook must carry a valid signature")
	require.Equal(t, []string{
		"/webhooks/twilio/voice/tok-att-7/status", "/webhooks/twilio/voice/tok-att-7/status",
		"/webhooks/twilio/voice/tok-att-7/status", "/webhooks/twilio/voice/tok-att-7",
		"/webhooks/twilio/voice/tok-att-7/status",
	}, b.app.paths)
}

func TestVoiceSendErrors(t *testing.T) {
	t.Parallel()
	b := setupVoice(t)
	tests := []struct {
		name    string
		to      string
		prepare func(b *voiceBundle)
		retry   bool
		code    string
		reason  nudge.Reason
	}{
		{name: "invalid number", to: "+1415", code: "21217", reason: nudge.ReasonUndeliverable},
		{name: "rate limited", to: "+14155550161", prepare: func(b *voiceBundle) { b.sim.FailCreates("+14155550161", 1, 429, 20429) }, retry: true, code: "20429", reason: nudge.ReasonProviderRetry},
		{name: "server error", to: "+14155550162", prepare: func(b *voiceBundle) { b.sim.FailCreates("+14155550162", 1, 500, 20500) }, retry: true, code: "20500", reason: nudge.ReasonProviderRetry},
		{name: "landline refused", to: "+14155550163", prepare: func(b *voiceBundle) { b.sim.FailCreates("+14155550163", 1, 400, 21211) }, code: "21211", reason: nudge.ReasonUndeliverable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.prepare != nil {
				tt.prepare(b)
			}
			_, err := b.voice.Send(context.Background(), call(tt.to))
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok, "error %v is not a ProviderError", err)
			require.Equal(t, tt.retry, pe.Retry)
			require.Equal(t, tt.code, pe.Code)
			require.Equal(t, tt.reason, pe.Reason)
			require.Contains(t, pe.Error(), "att-7")
		})
	}
}

func TestVoiceSendRejectsBadMessage(t *testing.T) {
	t.Parallel()
	b := setupVoice(t)
	failing := errors.New("signer down")
	v, err := twilio.NewVoice(func() twilio.Config { c := validConfig(); return c }(),
		func(*nudge.Message) (string, error) { return "", failing })
	require.NoError(t, err)
	tests := []struct {
		name   string
		voice  *twilio.Voice
		msg    *nudge.Message
		reason nudge.Reason
	}{
		{name: "sms message", voice: b.voice, msg: &nudge.Message{AttemptID: "a", Channel: nudge.SMS, To: "+14155550170"}, reason: nudge.ReasonProviderFailed},
		{name: "no number", voice: b.voice, msg: &nudge.Message{AttemptID: "a", Channel: nudge.Voice}, reason: nudge.ReasonNoContact},
		{name: "no attempt", voice: b.voice, msg: &nudge.Message{Channel: nudge.Voice, To: "+14155550170"}, reason: nudge.ReasonProviderFailed},
		{name: "token fails", voice: v, msg: call("+14155550170"), reason: nudge.ReasonRenderFailed},
	}
	t.Cleanup(func() { require.Zero(t, b.sim.CreateCount("+14155550170"), "nothing reached Twilio") })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.voice.Send(context.Background(), tt.msg)
			pe, ok := nudge.AsProviderError(err)
			require.True(t, ok)
			require.False(t, pe.Retry)
			require.Equal(t, tt.reason, pe.Reason)
		})
	}
}

func TestNewVoiceValidates(t *testing.T) {
	t.Parallel()
	token := func(*nudge.Message) (string, error) { return "t", nil }
	tests := []struct {
		name  string
		mod   func(*twilio.Config)
		opts  []twilio.VoiceOption
		token twilio.TokenFunc
		want  string
	}{
		{name: "valid", token: token},
		{name: "caller id override", opts: []twilio.VoiceOption{twilio.WithCallerID("+14155550999")}, token: token},
		{name: "short code caller", mod: func(c *twilio.Config) { c.From = "12345" }, token: token, want: `caller ID "12345" must be an E.164 number: set twilio.voice_from`},
		{name: "call length under a minute", opts: []twilio.VoiceOption{twilio.WithMaxCallLength(30 * time.Second)}, token: token, want: "max call length must be at least 1m0s"},
		{name: "no public url", mod: func(c *twilio.Config) { c.PublicURL = "" }, token: token, want: "twilio.public_url is required"},
		{name: "bad cps", opts: []twilio.VoiceOption{twilio.WithCPS(0)}, token: token, want: "cps must be positive"},
		{name: "bad detection", opts: []twilio.VoiceOption{twilio.WithMachineDetection("Always")}, token: token, want: "machine detection"},
		{name: "no token func", want: "token function is required"},
		{name: "bad sid", mod: func(c *twilio.Config) { c.AccountSID = "AC1" }, token: token, want: "twilio.account_sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			if tt.mod != nil {
				tt.mod(&cfg)
			}
			_, err := twilio.NewVoice(cfg, tt.token, tt.opts...)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestVoiceSenderRate(t *testing.T) {
	t.Parallel()
	token := func(*nudge.Message) (string, error) { return "t", nil }
	v, err := twilio.NewVoice(validConfig(), token)
	require.NoError(t, err)
	key, cps := v.SenderRate(call("+14155550100"))
	require.Equal(t, "twilio:voice:"+testSID, key)
	require.InDelta(t, twilio.DefaultVoiceCPS, cps, 0)

	v, err = twilio.NewVoice(validConfig(), token, twilio.WithCPS(5))
	require.NoError(t, err)
	_, cps = v.SenderRate(call("+14155550100"))
	require.InDelta(t, 5.0, cps, 0)
}

func TestVoiceSendLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []twilio.VoiceOption
		validFor  time.Duration
		wantRing  string
		wantLimit string
	}{
		{name: "defaults, no limit", wantRing: "30", wantLimit: "600"},
		{name: "window shorter than a call", validFor: 4*time.Minute + 30*time.Second, wantRing: "30", wantLimit: "270"},
		{name: "window longer than a call", validFor: 3 * time.Hour, wantRing: "30", wantLimit: "600"},
		{name: "under a minute left", validFor: 10 * time.Second, wantRing: "30", wantLimit: "60"},
		{name: "configured", opts: []twilio.VoiceOption{twilio.WithRingTimeout(45 * time.Second), twilio.WithMaxCallLength(20 * time.Minute)}, validFor: time.Hour, wantRing: "45", wantLimit: "1200"},
		{name: "ring clamped up", opts: []twilio.VoiceOption{twilio.WithRingTimeout(time.Second)}, wantRing: "5", wantLimit: "600"},
		{name: "ring clamped down", opts: []twilio.VoiceOption{twilio.WithRingTimeout(time.Hour)}, wantRing: "600", wantLimit: "600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			cfg := validConfig()
			cfg.BaseURL = srv.URL
			v, err := twilio.NewVoice(cfg, func(*nudge.Message) (string, error) { return "tok", nil }, tt.opts...)
			require.NoError(t, err)
			m := call("+14155550123")
			m.ValidFor = tt.validFor
			res, err := v.Send(context.Background(), m)
			require.NoError(t, err)
			require.Equal(t, "CA0123456789abcdef0123456789abcdef", res.ProviderID)
			form := rec.last(t)
			require.Equal(t, tt.wantRing, form.Get("Timeout"))
			require.Equal(t, tt.wantLimit, form.Get("TimeLimit"))
		})
	}
}

func TestCallTimeLimit(t *testing.T) {
	t.Parallel()
	require.Equal(t, 600, twilio.CallTimeLimit(0, twilio.DefaultMaxCallLength))
	require.Equal(t, 125, twilio.CallTimeLimit(125*time.Second+999*time.Millisecond, twilio.DefaultMaxCallLength))
	require.Equal(t, 60, twilio.CallTimeLimit(time.Second, twilio.DefaultMaxCallLength))
	require.Equal(t, 60, twilio.CallTimeLimit(-time.Minute, twilio.DefaultMaxCallLength))
}
