package dispatcher

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/logmask"
	"github.com/nudgehq/nudge/templates"
)

// renderStore is what the renderer reads: a lender and no history.
type renderStore struct{}

func (renderStore) GetLender(_ context.Context, id string) (nudge.Lender, error) {
	return nudge.Lender{ID: id, Name: "Acme Auto Finance", Language: "en", HelpPhone: "+18005550100"}, nil
}

func (renderStore) AttemptHistory(context.Context, string, string, time.Time) ([]nudge.Attempt, error) {
	return nil, nil
}

func (renderStore) ListPromises(context.Context, string, string) ([]nudge.Promise, error) {
	return nil, nil
}

type renderBundle struct {
	r      *TemplateRenderer
	tokens *link.MemoryStore
	clock  *nudge.FixedClock
}

func renderSetup(t *testing.T, publicURL string) *renderBundle {
	t.Helper()
	b := &renderBundle{tokens: link.NewMemoryStore(), clock: nudge.NewFixedClock(noon)}
	links, err := link.New([]byte("render-test-secret-0123456789abcdef"), b.tokens, b.clock)
	require.NoError(t, err)
	b.r = &TemplateRenderer{
		Pack: templates.Default(), Store: renderStore{}, Links: links, PublicURL: publicURL, Clock: b.clock,
		Profiles: ProfilesFunc(func(context.Context, string, string) (*compliance.Profile, error) { return compliance.Builtin("us") }),
		TemplateFor: func(_ context.Context, _ nudge.Reminder, ch nudge.ChannelKind) (string, error) {
			return map[nudge.ChannelKind]string{nudge.SMS: "due_sms", nudge.Email: "due_email", nudge.Voice: "late_voice"}[ch], nil
		},
	}
	return b
}

func (b *renderBundle) render(t *testing.T, ch nudge.ChannelKind) *nudge.Message {
	t.Helper()
	acct := testAccount("L-100021")
	acct.Borrower.Name = "Ana Diaz"
	acct.Contacts = append(acct.Contacts, nudge.Contact{Channel: nudge.Voice, Address: smsAddr, Consent: true})
	r := testReminder(acct.ID, "day1")
	r.Template = "due_sms"
	addr := map[nudge.ChannelKind]string{nudge.SMS: smsAddr, nudge.Voice: smsAddr, nudge.Email: emailAddr}[ch]
	att := nudge.Attempt{ID: AttemptID(r.ID, ch), ReminderID: r.ID, Lender: testLender, AccountID: acct.ID, Channel: ch, Address: addr}
	m, err := b.r.Render(context.Background(), RenderInput{Reminder: r, Account: acct, Attempt: att,
		Decision: compliance.Decision{Zones: []string{"America/New_York"}}})
	require.NoError(t, err)
	return m
}

// TestRenderedLinksCarryNoData renders each channel and checks that the
// links are short, opaque and stable, and that no link or SMS body names
// the account, the number or the email in any encoding.
func TestRenderedLinksCarryNoData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		publicURL string
		channel   nudge.ChannelKind
	}{
		{name: "sms, default public URL", publicURL: "http://127.0.0.1:8080", channel: nudge.SMS},
		{name: "sms, a typical public URL", publicURL: "https://nudge.example.com/", channel: nudge.SMS},
		{name: "email", publicURL: "https://nudge.example.com", channel: nudge.Email},
		{name: "voice", publicURL: "https://nudge.example.com", channel: nudge.Voice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := renderSetup(t, tt.publicURL)
			m := b.render(t, tt.channel)
			base := strings.TrimRight(tt.publicURL, "/")
			self := linkIn(t, m.Text+m.HTML, base+SelfServicePath)
			if tt.channel != nudge.Voice {
				require.NotEmpty(t, self, "the message carries its self-service link")
				require.LessOrEqual(t, len(self)-len(base), 40, "the /p/ path")
				require.LessOrEqual(t, len(self), 50, "the whole link: %s", self)
			}
			secret := []string{"L-100021", smsAddr, emailAddr, "Ana Diaz"}
			require.Empty(t, logmask.Leaks(self, secret...))
			for _, h := range m.Headers {
				require.Empty(t, logmask.Leaks(h, secret...))
			}
			if tt.channel == nudge.SMS {
				require.Empty(t, logmask.Leaks(m.Text, "L-100021", smsAddr, emailAddr), "the SMS body: %s", m.Text)
			}
			switch tt.channel {
			case nudge.Email:
				unsub := strings.Trim(m.Headers["List-Unsubscribe"], "<>")
				require.True(t, strings.HasPrefix(unsub, base+UnsubscribePath), unsub)
				require.True(t, link.ValidToken(strings.TrimPrefix(unsub, base+UnsubscribePath)))
			case nudge.Voice:
				require.True(t, link.ValidToken(m.Headers[link.VoiceHeader]), "the call's webhook token is issued before the send")
			}

			// The same borrower's next message carries the same links, and
			// the table does not grow.
			n := b.tokens.Len()
			b.clock.Advance(24 * time.Hour)
			again := b.render(t, tt.channel)
			if self != "" {
				require.Equal(t, self, linkIn(t, again.Text+again.HTML, base+SelfServicePath))
			}
			require.Equal(t, n, b.tokens.Len())
		})
	}
}

// TestRenderedLinkRenewed checks that a link with less than half its time
// left is replaced by a new one.
func TestRenderedLinkRenewed(t *testing.T) {
	t.Parallel()
	b := renderSetup(t, "https://nudge.example.com")
	first := linkIn(t, b.render(t, nudge.SMS).Text, "https://nudge.example.com/p/")
	b.clock.Advance(DefaultLinkTTL/2 + time.Hour)
	second := linkIn(t, b.render(t, nudge.SMS).Text, "https://nudge.example.com/p/")
	require.NotEqual(t, first, second)
	require.Equal(t, 2, b.tokens.Len())
}

// linkIn returns the first link in text that starts with prefix and its
// token, or "" when there is none.
func linkIn(t *testing.T, text, prefix string) string {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		return ""
	}
	tok := text[i+len(prefix):]
	if len(tok) > link.TokenLength {
		tok = tok[:link.TokenLength]
	}
	require.True(t, link.ValidToken(tok), "a token follows %s: %q", prefix, text[i:])
	return prefix + tok
}

// countingLenders is a renderStore whose lender changes name and counts reads.
type countingLenders struct {
	renderStore
	reads int
	name  string
}

func (s *countingLenders) GetLender(_ context.Context, id string) (nudge.Lender, error) {
	s.reads++
	return nudge.Lender{ID: id, Name: s.name, Language: "en", HelpPhone: "+18005550100"}, nil
}

// TestRendererReusesLenderWithinTTL reads a lender once per LenderTTL: a
// renamed lender shows in messages once the cached copy is older than it.
func TestRendererReusesLenderWithinTTL(t *testing.T) {
	t.Parallel()
	b := renderSetup(t, "https://nudge.example.com")
	store := &countingLenders{name: "Acme Auto Finance"}
	b.r.Store = store
	require.Contains(t, b.render(t, nudge.SMS).Text, "Acme Auto Finance")
	store.name = "Acme Motor Credit"
	b.clock.Advance(DefaultLenderTTL - time.Second)
	require.Contains(t, b.render(t, nudge.SMS).Text, "Acme Auto Finance", "within the TTL the lender is reused")
	require.Equal(t, 1, store.reads)
	b.clock.Advance(2 * time.Second)
	require.Contains(t, b.render(t, nudge.SMS).Text, "Acme Motor Credit", "past it the lender is read again")
	require.Equal(t, 2, store.reads)

	b.r.LenderTTL = -1
	b.render(t, nudge.SMS)
	b.render(t, nudge.SMS)
	require.Equal(t, 4, store.reads, "a negative TTL reads the lender every time")
}

// historyStore counts AttemptHistory reads and answers with hist.
type historyStore struct {
	renderStore
	hist  []nudge.Attempt
	reads int
}

func (s *historyStore) AttemptHistory(context.Context, string, string, time.Time) ([]nudge.Attempt, error) {
	s.reads++
	return s.hist, nil
}

// TestFirstContactReadsHistoryOnlyWhenNeeded: a recent attempt that reached
// the provider answers without a read; otherwise the whole history decides.
func TestFirstContactReadsHistoryOnlyWhenNeeded(t *testing.T) {
	t.Parallel()
	att := nudge.Attempt{ID: "att_now", Lender: testLender, AccountID: "L-1"}
	reached := nudge.Attempt{ID: "att_old", ProviderID: "SM1"}
	claimedOnly := nudge.Attempt{ID: "att_claimed"}
	tests := []struct {
		name      string
		recent    []nudge.Attempt
		hist      []nudge.Attempt
		wantFirst bool
		wantReads int
	}{
		{name: "a recent attempt reached the provider", recent: []nudge.Attempt{claimedOnly, reached}, wantFirst: false, wantReads: 0},
		{name: "an older one did", recent: []nudge.Attempt{claimedOnly}, hist: []nudge.Attempt{reached, att}, wantFirst: false, wantReads: 1},
		{name: "none ever did", hist: []nudge.Attempt{claimedOnly, {ID: att.ID, ProviderID: "SM2"}}, wantFirst: true, wantReads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &historyStore{hist: tt.hist}
			r := &TemplateRenderer{Store: s}
			first, err := r.firstContact(context.Background(), att, tt.recent)
			require.NoError(t, err)
			require.Equal(t, tt.wantFirst, first)
			require.Equal(t, tt.wantReads, s.reads)
		})
	}
}

// TestRenderedPayLink: with the lender's payment link, an email carries it
// (the default pack shows it in emails only) and an SMS keeps its text and
// its segment count, linking to the self-service page instead.
func TestRenderedPayLink(t *testing.T) {
	t.Parallel()
	b := renderSetup(t, "https://nudge.example.com")
	plainSMS := b.render(t, nudge.SMS)
	const pay = "https://pay.acme.example/pay?ref=L-100021&amount=412.50"
	b.r.PayLink = func(l nudge.Lender, a nudge.Account) string {
		require.Equal(t, "Acme Auto Finance", l.Name)
		return "https://pay.acme.example/pay?ref=" + a.ID + "&amount=" + a.AmountDue
	}
	email := b.render(t, nudge.Email)
	require.Contains(t, email.Text, "Pay now: "+pay)
	require.Contains(t, email.HTML, `href="https://pay.acme.example/pay?ref=L-100021&amp;amount=412.50"`)
	sms := b.render(t, nudge.SMS)
	require.NotContains(t, sms.Text, "pay.acme.example")
	require.Equal(t, plainSMS.Text, sms.Text, "the text is unchanged")
}

// TestRenderedMessageNamesItsTemplate: each channel's message carries the
// version of the template that rendered it, which the attempt records.
func TestRenderedMessageNamesItsTemplate(t *testing.T) {
	t.Parallel()
	b := renderSetup(t, "https://nudge.example.com")
	for ch, name := range map[nudge.ChannelKind]string{nudge.SMS: "due_sms", nudge.Email: "due_email", nudge.Voice: "late_voice"} {
		m := b.render(t, ch)
		require.Regexp(t, `^`+name+`@en:[0-9a-f]{12}$`, m.Template, ch)
	}
}

// snapshotRecorder records the account reads the pipeline asks for.
type snapshotRecorder struct {
	*memStore
	mu      sync.Mutex
	queries []nudge.AccountSnapshotQuery
}

func (s *snapshotRecorder) AccountSnapshot(ctx context.Context, lender, id string, q nudge.AccountSnapshotQuery) (nudge.AccountSnapshot, error) {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	return s.memStore.AccountSnapshot(ctx, lender, id, q)
}

// TestContactedReadOnlyForDisclosures: the account stage asks whether
// another reminder ever reached the borrower only when the lender's profile
// may need Regulation F's first-contact disclosure; a first-party lender's
// reminder is sent without that read, and the renderer is told nothing.
func TestContactedReadOnlyForDisclosures(t *testing.T) {
	t.Parallel()
	for _, collector := range []string{compliance.ThirdParty, compliance.FirstParty} {
		t.Run(collector, func(t *testing.T) {
			t.Parallel()
			var rec *snapshotRecorder
			var contacted []*bool
			b := setup(t, func(c *PipelineConfig) {
				rec = &snapshotRecorder{memStore: c.Store.(*memStore)}
				c.Store = rec
				c.Profiles = ProfilesFunc(func(context.Context, string, string) (*compliance.Profile, error) {
					p, err := compliance.Builtin("us")
					if err != nil {
						return nil, err
					}
					cp := *p
					cp.Collector = collector
					return &cp, nil
				})
				render := c.Renderer
				c.Renderer = RendererFunc(func(ctx context.Context, in RenderInput) (*nudge.Message, error) {
					contacted = append(contacted, in.Contacted)
					return render.Render(ctx, in)
				})
			})
			r := b.add("L-1", nil, nil)
			require.NoError(t, b.pipe.Process(context.Background(), r.ID))
			require.Equal(t, 1, b.sms.Sent())
			require.NotEmpty(t, rec.queries)
			require.Len(t, contacted, 1)
			if collector == compliance.FirstParty {
				require.Empty(t, rec.queries[0].ContactedBesides, "no first-contact read for a first-party lender")
				require.Nil(t, contacted[0])
				return
			}
			require.Equal(t, r.ID, rec.queries[0].ContactedBesides)
			require.NotNil(t, contacted[0])
			require.False(t, *contacted[0], "no other reminder reached the borrower")
		})
	}
}
