package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/webhooks"
)

const payAccount = "L-100021"

type payBundle struct {
	db     *store.DB
	srv    *web.Server
	clock  *nudge.FixedClock
	secret string
	queued string
}

// paySetup stores acme (with a webhook secret) and beta (without), an
// account of acme with a queued reminder, and serves the payment webhook.
func paySetup(t *testing.T) *payBundle {
	t.Helper()
	ctx := context.Background()
	clock := nudge.NewFixedClock(t0)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "n.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	for _, l := range []string{lenderID, "beta"} {
		require.NoError(t, db.UpsertLender(ctx, nudge.Lender{ID: l, Name: lenderNm, Language: "en", CreatedAt: t0}))
	}
	acct := nudge.Account{ID: payAccount, Lender: lenderID, Borrower: nudge.Borrower{Name: "Ana García", Language: "en"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: phone, Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-11-20"), Status: nudge.StatusActive}
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{acct}, t0))
	rs, err := db.InsertReminders(ctx, []nudge.Reminder{{Key: nudge.ReminderKey{Lender: lenderID, AccountID: payAccount, Cadence: "c",
		Step: "late-sms", Cycle: acct.DueDate}, Channel: nudge.SMS, Template: "late_sms", DueAt: t0.Add(time.Hour), Status: nudge.ReminderQueued, CreatedAt: t0}})
	require.NoError(t, err)
	sealer, err := payment.NewSealer([]byte(strings.Repeat("d", 32)))
	require.NoError(t, err)
	secret, err := payment.NewSecret()
	require.NoError(t, err)
	sealed, err := sealer.Seal(lenderID, secret)
	require.NoError(t, err)
	require.NoError(t, db.SetPaymentWebhookSecret(ctx, lenderID, sealed))
	srv := web.NewServer(nil, nil, web.WithLimits(web.Limits{Unauthenticated: web.RateLimit{Off: true}}))
	enq := dispatcher.NewEnqueuer(testRedis(t), dispatcher.EnqueuerConfig{Clock: clock})
	(&webhooks.Payments{Store: db, Sealer: sealer, Tasks: enq, Clock: clock}).Register(srv)
	return &payBundle{db: db, srv: srv, clock: clock, secret: secret, queued: rs[0].ID}
}

// post sends body signed with secret at signedAt (no signature when secret is "").
func (b *payBundle) post(t *testing.T, body, secret string, signedAt time.Time) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, webhooks.PaymentsPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(payment.TimestampHeader, fmt.Sprint(signedAt.Unix()))
		req.Header.Set(payment.SignatureHeader, payment.Sign(secret, signedAt, []byte(body)))
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func (b *payBundle) state(t *testing.T) (nudge.AccountStatus, nudge.ReminderStatus, int) {
	t.Helper()
	ctx := context.Background()
	a, err := b.db.GetAccount(ctx, lenderID, payAccount)
	require.NoError(t, err)
	r, err := b.db.GetReminder(ctx, b.queued)
	require.NoError(t, err)
	ps, err := b.db.ListPayments(ctx, lenderID, payAccount)
	require.NoError(t, err)
	return a.Status, r.Status, len(ps)
}

const notice = `{"lender": "acme", "account_ref": "L-100021", "amount": "412.50", "currency": "USD", "paid_at": "2026-11-27T16:58:00Z", "payment_id": "pp_1"}`

func TestPaymentWebhook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// send posts the request; it gets the bundle's secret.
		send     func(t *testing.T, b *payBundle) (int, string)
		code     int
		contains string
		paid     bool
	}{
		{name: "good signature ends the cycle", code: http.StatusOK, contains: `"cycle_ended":true`, paid: true,
			send: func(t *testing.T, b *payBundle) (int, string) { return b.post(t, notice, b.secret, t0) }},
		{name: "signed 4 minutes ago", code: http.StatusOK, paid: true,
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, notice, b.secret, t0.Add(-4*time.Minute))
			}},
		{name: "bad signature", code: http.StatusForbidden, contains: "bad signature",
			send: func(t *testing.T, b *payBundle) (int, string) {
				other, err := payment.NewSecret()
				require.NoError(t, err)
				return b.post(t, notice, other, t0)
			}},
		{name: "no signature", code: http.StatusForbidden,
			send: func(t *testing.T, b *payBundle) (int, string) { return b.post(t, notice, "", t0) }},
		{name: "body changed after signing", code: http.StatusForbidden,
			send: func(t *testing.T, b *payBundle) (int, string) {
				req := httptest.NewRequest(http.MethodPost, webhooks.PaymentsPath, strings.NewReader(strings.Replace(notice, "412.50", "1.00", 1)))
				req.Header.Set(payment.TimestampHeader, fmt.Sprint(t0.Unix()))
				req.Header.Set(payment.SignatureHeader, payment.Sign(b.secret, t0, []byte(notice)))
				w := httptest.NewRecorder()
				b.srv.ServeHTTP(w, req)
				return w.Code, w.Body.String()
			}},
		{name: "stale timestamp", code: http.StatusForbidden, contains: "more than 5m0s from now",
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, notice, b.secret, t0.Add(-6*time.Minute))
			}},
		{name: "unknown lender", code: http.StatusForbidden,
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, strings.Replace(notice, `"acme"`, `"nobody"`, 1), b.secret, t0)
			}},
		{name: "a lender without a secret", code: http.StatusForbidden,
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, strings.Replace(notice, `"acme"`, `"beta"`, 1), b.secret, t0)
			}},
		{name: "unknown account", code: http.StatusUnprocessableEntity, contains: "account_id: lender acme has no account",
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, strings.Replace(notice, payAccount, "L-9", 1), b.secret, t0)
			}},
		{name: "bad amount and payment id", code: http.StatusBadRequest, contains: "amount: \\\"12,50\\\" is not a decimal amount",
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, `{"lender": "acme", "account_id": "L-100021", "amount": "12,50", "payment_id": ""}`, b.secret, t0)
			}},
		{name: "unknown field", code: http.StatusBadRequest, contains: "unknown field",
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, `{"lender": "acme", "account_id": "L-100021", "amount": "1.00", "payment_id": "x", "note": "hi"}`, b.secret, t0)
			}},
		{name: "another currency", code: http.StatusUnprocessableEntity, contains: "currency",
			send: func(t *testing.T, b *payBundle) (int, string) {
				return b.post(t, strings.Replace(notice, "USD", "EUR", 1), b.secret, t0)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := paySetup(t)
			code, body := tc.send(t, b)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.contains)
			status, reminder, payments := b.state(t)
			if tc.paid {
				require.Equal(t, nudge.StatusPaid, status)
				require.Equal(t, nudge.ReminderCanceled, reminder, "what was queued is canceled")
				require.Equal(t, 1, payments)
				return
			}
			require.Equal(t, nudge.StatusActive, status, "nothing changes")
			require.Equal(t, nudge.ReminderQueued, reminder)
			require.Zero(t, payments)
		})
	}
}

// TestPaymentWebhookReplay: the same payment id again, freshly signed, is
// answered 200 as a duplicate and changes nothing: a new cycle imported
// since stays active.
func TestPaymentWebhookReplay(t *testing.T) {
	t.Parallel()
	b := paySetup(t)
	ctx := context.Background()
	code, body := b.post(t, notice, b.secret, t0)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"duplicate":false`)
	audits, err := b.db.ListAudit(ctx, lenderID)
	require.NoError(t, err)
	require.Len(t, audits, 1)
	require.Equal(t, webhooks.PaymentActor, audits[0].Actor)

	// The lender imports the next cycle; the portal retries an hour later.
	next := nudge.Account{ID: payAccount, Lender: lenderID, Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: phone, Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-12-20"), Status: nudge.StatusActive}
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{next}, t0.Add(time.Hour)))
	b.clock.Advance(time.Hour)
	code, body = b.post(t, notice, b.secret, b.clock.Now())
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"duplicate":true`)
	a, err := b.db.GetAccount(ctx, lenderID, payAccount)
	require.NoError(t, err)
	require.Equal(t, nudge.StatusActive, a.Status, "the replay does not end the new cycle")
	ps, err := b.db.ListPayments(ctx, lenderID, payAccount)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	audits, err = b.db.ListAudit(ctx, lenderID)
	require.NoError(t, err)
	require.Len(t, audits, 1, "a replay is not audited again")
}
