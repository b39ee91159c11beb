package dispatcher_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/sandbox"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/store/storetest"
)

// twilioCodes is the sandbox sender classifying provider codes as Twilio's
// SMS sender does.
type twilioCodes struct{ *sandbox.Sender }

func (twilioCodes) ClassifyCode(code string) *nudge.ProviderError {
	return twilio.ClassifyReportedCode(code)
}

// TestEarlyCallbackCodeIsRecorded: a status callback that outran the
// worker's record of the send is kept, and applied when the send is
// recorded. What its error code says about the address is recorded then,
// as the status webhook records it for a callback that finds its attempt:
// 21610 (the recipient opted out at the provider) an opt-out, 30006 (a
// landline) an undeliverable contact, any other code nothing more.
func TestEarlyCallbackCodeIsRecorded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                    string
		status                  nudge.AttemptStatus
		code                    string
		optedOut, undeliverable bool
	}{
		{name: "opted out", status: nudge.AttemptFailed, code: "21610", optedOut: true},
		{name: "landline", status: nudge.AttemptUndelivered, code: "30006", undeliverable: true},
		{name: "carrier filtered", status: nudge.AttemptUndelivered, code: "30007"},
		{name: "delivered", status: nudge.AttemptDelivered},
	}
	for name, open := range sqlStores(t) {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db := open(t)
				sms := sandbox.New()
				pipe, r, clock := pipelineOverSQL(t, db, twilioCodes{sms})

				// The sandbox's first message is sbx-1; its callback comes first.
				require.NoError(t, db.KeepEarlyCallback(ctx, "sbx-1", tc.status, tc.code, clock.Now()))
				require.NoError(t, pipe.Process(ctx, r.ID))

				_, attempts, err := db.LoadReminder(ctx, r.ID)
				require.NoError(t, err)
				require.Len(t, attempts, 1)
				require.Equal(t, "sbx-1", attempts[0].ProviderID)
				require.Equal(t, tc.status, attempts[0].Status, "the kept callback applied")
				require.Equal(t, tc.code, attempts[0].ErrorCode)
				require.Equal(t, 1, sms.Sent())

				opted, err := db.OptedOut(ctx, "acme", []nudge.ContactRef{{Channel: nudge.SMS, Address: "+12125550123"}})
				require.NoError(t, err)
				require.Equal(t, tc.optedOut, len(opted) == 1, "opt-out recorded")
				got, err := db.GetAccount(ctx, "acme", "A-1")
				require.NoError(t, err)
				require.Len(t, got.Contacts, 1)
				require.Equal(t, tc.undeliverable, got.Contacts[0].State == nudge.ContactUndeliverable, "contact state %q", got.Contacts[0].State)
			})
		}
	}
}

// codeProber finds every attempt at the provider with rec, and classifies
// codes as Twilio's SMS sender does.
type codeProber struct {
	twilioCodes
	rec nudge.ProviderRecord
}

func (p codeProber) Lookup(context.Context, nudge.ProviderQuery) (nudge.ProviderRecord, error) {
	return p.rec, nil
}

// TestReconciledCodeIsRecorded: a send whose answer was lost is found in the
// provider's records with an error code; the reconciler records what the
// code says about the address, as for a callback.
func TestReconciledCodeIsRecorded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, code              string
		optedOut, undeliverable bool
	}{
		{name: "opted out", code: "21610", optedOut: true},
		{name: "landline", code: "30006", undeliverable: true},
		{name: "carrier filtered", code: "30007"},
	}
	for name, open := range sqlStores(t) {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db := open(t)
				clock := nudge.NewFixedClock(storetest.T0.Add(time.Hour))
				a := unknownAttempt(t, db, nudge.SMS)

				prober := codeProber{rec: nudge.ProviderRecord{Found: true, ProviderID: "SM-found", Status: nudge.AttemptUndelivered, ErrorCode: tc.code}}
				rc, err := dispatcher.NewReconciler(dispatcher.ReconcilerConfig{Store: db,
					Queue:   queueFunc(func(nudge.Reminder) { t.Error("found: never resent") }),
					Probers: map[nudge.ChannelKind]nudge.Prober{nudge.SMS: prober}, Clock: clock,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				require.NoError(t, err)
				rep, err := rc.Run(ctx, false)
				require.NoError(t, err)
				require.Empty(t, rep.Errors)
				require.Equal(t, 1, rep.Counts[dispatcher.OutcomeFound])

				opted, err := db.OptedOut(ctx, "acme", []nudge.ContactRef{{Channel: nudge.SMS, Address: a.Address}})
				require.NoError(t, err)
				require.Equal(t, tc.optedOut, len(opted) == 1, "opt-out recorded")
				got, err := db.GetAccount(ctx, "acme", "A-1")
				require.NoError(t, err)
				for _, c := range got.Contacts {
					if c.Channel == nudge.SMS {
						require.Equal(t, tc.undeliverable, c.State == nudge.ContactUndeliverable, "contact state %q", c.State)
					}
				}
			})
		}
	}
}
