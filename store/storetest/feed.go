package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// webhookStore returns s as a nudge.WebhookStore, skipping the test when
// the store under test does not keep webhooks.
func webhookStore(t *testing.T, s nudge.Store) nudge.WebhookStore {
	t.Helper()
	ws, ok := s.(nudge.WebhookStore)
	if !ok {
		t.Skip("the store does not implement nudge.WebhookStore")
	}
	return ws
}

// readFeed pages through the lender's feed from after, page events at a
// time, and returns what it read and the last position.
func readFeed(t *testing.T, ws nudge.WebhookStore, lender string, after int64, page int) ([]nudge.FeedEntry, int64) {
	t.Helper()
	var out []nudge.FeedEntry
	for {
		got, err := ws.Feed(context.Background(), lender, after, page)
		require.NoError(t, err)
		if len(got) == 0 {
			return out, after
		}
		for _, f := range got {
			require.Greater(t, f.Position, after, "positions grow")
			after = f.Position
		}
		out = append(out, got...)
	}
}

// testFeed gives each lender's events positions 1, 2, … in commit order,
// pages by them, positions later events after every earlier one, and keeps
// lenders apart.
func testFeed(t *testing.T, s nudge.Store) {
	ws := webhookStore(t, s)
	ctx := context.Background()
	for i := range 5 {
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: fmt.Sprintf("A-%d", i),
			Kind: nudge.EventPlanned, Action: fmt.Sprint(i), At: T0}))
	}
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "beta", AccountID: "A-1", Kind: nudge.EventPlanned, At: T0}))

	got, err := ws.Feed(ctx, "acme", 0, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, int64(1), got[0].Position)
	require.Equal(t, "0", got[0].Event.Action)
	require.Equal(t, int64(2), got[1].Position)
	all, last := readFeed(t, ws, "acme", 0, 2)
	require.Len(t, all, 5)
	require.Equal(t, int64(5), last)
	for i, f := range all {
		require.Equal(t, fmt.Sprint(i), f.Event.Action, "in commit order")
		require.Equal(t, "acme", f.Event.Lender)
	}
	beta, _ := readFeed(t, ws, "beta", 0, 10)
	require.Len(t, beta, 1, "each lender has its own feed")
	require.Equal(t, int64(1), beta[0].Position)

	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-9", Kind: nudge.EventHold, At: T0}))
	more, _ := readFeed(t, ws, "acme", last, 10)
	require.Len(t, more, 1)
	require.Equal(t, int64(6), more[0].Position)
	again, err := ws.Feed(ctx, "acme", 0, 100)
	require.NoError(t, err)
	require.Len(t, again, 6, "positions are stable: reading again returns the same entries")
	require.Equal(t, all[3], again[3])

	f, err := ws.FeedEvent(ctx, "acme", more[0].Event.ID)
	require.NoError(t, err)
	require.Equal(t, more[0], f)
	_, err = ws.FeedEvent(ctx, "beta", more[0].Event.ID)
	require.ErrorIs(t, err, nudge.ErrNotFound, "another lender's event")
	_, err = ws.Feed(ctx, "", 0, 1)
	require.Error(t, err)
}

// testFeedConcurrentWriters appends events from several writers while a
// reader pages through the feed: the reader sees every event exactly once.
func testFeedConcurrentWriters(t *testing.T, s nudge.Store) {
	ws := webhookStore(t, s)
	ctx := context.Background()
	const writers, each = 6, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: fmt.Sprintf("W-%d", w),
					Kind: nudge.EventPlanned, Action: fmt.Sprintf("%d/%d", w, i), At: T0}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var after int64
	read := func() {
		got, err := ws.Feed(ctx, "acme", after, 7)
		require.NoError(t, err)
		for _, f := range got {
			require.Greater(t, f.Position, after)
			after = f.Position
			seen[f.Event.Action]++
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	for {
		n := len(seen)
		read()
		if len(seen) == n {
			break
		}
	}
	require.Len(t, seen, writers*each, "no event skipped")
	for action, n := range seen {
		require.Equal(t, 1, n, "event %s read once", action)
	}
}

// testWebhookStore keeps endpoints and their deliveries: the cursor starts
// at the feed's head, deliveries wait for the earlier pending one of the
// same account, tries count failures and reset them, and a failed
// delivery can be replayed.
func testWebhookStore(t *testing.T, s nudge.Store) {
	ws := webhookStore(t, s)
	ctx := context.Background()
	require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventPlanned, At: T0}))
	ep := nudge.WebhookEndpoint{ID: "whe_1", Lender: "acme", URL: "https://crm.acme.example/hooks", Secret: "v1:sealed",
		EventTypes: []nudge.PublicEventType{nudge.PublicReminderSent, nudge.PublicOptOut}, Enabled: true, CreatedAt: T0}
	created, err := ws.CreateWebhookEndpoint(ctx, ep)
	require.NoError(t, err)
	require.Equal(t, int64(1), created.Cursor, "starts after the events already there")
	got, err := ws.GetWebhookEndpoint(ctx, "acme", "whe_1")
	require.NoError(t, err)
	require.Equal(t, created, got)
	_, err = ws.GetWebhookEndpoint(ctx, "beta", "whe_1")
	require.ErrorIs(t, err, nudge.ErrNotFound)
	_, err = ws.CreateWebhookEndpoint(ctx, nudge.WebhookEndpoint{ID: "whe_x", Lender: "acme"})
	require.Error(t, err)

	got.Description, got.EventTypes = "CRM", nil
	require.NoError(t, ws.UpdateWebhookEndpoint(ctx, got, T0.Add(time.Minute)))
	require.NoError(t, ws.SetWebhookSecret(ctx, "acme", "whe_1", "v1:other", T0.Add(time.Minute)))
	got, err = ws.GetWebhookEndpoint(ctx, "acme", "whe_1")
	require.NoError(t, err)
	require.Equal(t, "CRM", got.Description)
	require.Empty(t, got.EventTypes)
	require.Equal(t, "v1:other", got.Secret)
	require.ErrorIs(t, ws.SetWebhookSecret(ctx, "beta", "whe_1", "v1:x", T0), nudge.ErrNotFound)

	delivery := func(id, account string, pos int64) nudge.WebhookDelivery {
		return nudge.WebhookDelivery{ID: id, EndpointID: "whe_1", Lender: "acme", AccountID: account, EventID: pos, Position: pos,
			EventType: nudge.PublicReminderSent, NextAt: T0, GiveUpAt: T0.Add(72 * time.Hour), CreatedAt: T0}
	}
	ds := []nudge.WebhookDelivery{delivery("msg_2", "A-1", 2), delivery("msg_3", "A-1", 3), delivery("msg_4", "A-2", 4)}
	moved, err := ws.AddWebhookDeliveries(ctx, "whe_1", 1, 4, ds)
	require.NoError(t, err)
	require.True(t, moved)
	moved, err = ws.AddWebhookDeliveries(ctx, "whe_1", 1, 4, ds)
	require.NoError(t, err)
	require.False(t, moved, "the cursor moved on: a second fan-out of the same page writes nothing")

	due, err := ws.DueWebhookDeliveries(ctx, T0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_2", "msg_4"}, deliveryIDs(due), "msg_3 waits for msg_2 of the same account")
	blocked, err := ws.WebhookDeliveryBlocked(ctx, ds[1])
	require.NoError(t, err)
	require.True(t, blocked)
	next, err := ws.NextWebhookDelivery(ctx, "whe_1", "A-1")
	require.NoError(t, err)
	require.Equal(t, "msg_2", next.ID)
	_, err = ws.NextWebhookDelivery(ctx, "whe_1", "A-7")
	require.ErrorIs(t, err, nudge.ErrNotFound)

	// A failure counts against the endpoint and reschedules the delivery.
	after, applied, err := ws.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_2", Attempts: 0, Status: nudge.WebhookPending,
		NextAt: T0.Add(5 * time.Second), HTTPStatus: 500, Error: "500 Internal Server Error", At: T0})
	require.NoError(t, err)
	require.True(t, applied)
	require.Equal(t, 1, after.Failures)
	require.Equal(t, T0, after.FailingSince)
	_, applied, err = ws.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_2", Attempts: 0, Status: nudge.WebhookDelivered, At: T0})
	require.NoError(t, err)
	require.False(t, applied, "a stale try (attempts moved on) is not recorded")
	due, err = ws.DueWebhookDeliveries(ctx, T0, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_4"}, deliveryIDs(due), "msg_2 is not due yet and still holds msg_3 back")
	after, applied, err = ws.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_2", Attempts: 1, Status: nudge.WebhookDelivered,
		HTTPStatus: 204, At: T0.Add(6 * time.Second)})
	require.NoError(t, err)
	require.True(t, applied)
	require.Zero(t, after.Failures, "a success resets the count")
	require.True(t, after.FailingSince.IsZero())
	due, err = ws.DueWebhookDeliveries(ctx, T0.Add(6*time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_3", "msg_4"}, deliveryIDs(due))
	d2, err := ws.GetWebhookDelivery(ctx, "msg_2")
	require.NoError(t, err)
	require.Equal(t, nudge.WebhookDelivered, d2.Status)
	require.Equal(t, 2, d2.Attempts)
	require.Equal(t, T0.Add(6*time.Second), d2.DeliveredAt)

	_, _, err = ws.RecordWebhookTry(ctx, nudge.WebhookTry{DeliveryID: "msg_4", Attempts: 0, Status: nudge.WebhookFailed,
		HTTPStatus: 410, Error: "gone", At: T0})
	require.NoError(t, err)
	failed, err := ws.ListWebhookDeliveries(ctx, "acme", "whe_1", nudge.WebhookFailed, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_4"}, deliveryIDs(failed))
	all, err := ws.ListWebhookDeliveries(ctx, "acme", "whe_1", "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"msg_4", "msg_3", "msg_2"}, deliveryIDs(all), "newest first")
	none, err := ws.ListWebhookDeliveries(ctx, "beta", "whe_1", "", 10)
	require.NoError(t, err)
	require.Empty(t, none)

	replayed, err := ws.ReplayWebhookDelivery(ctx, "acme", "msg_4", T0.Add(time.Hour), T0.Add(73*time.Hour))
	require.NoError(t, err)
	require.Equal(t, nudge.WebhookPending, replayed.Status)
	require.Equal(t, T0.Add(time.Hour), replayed.NextAt)
	_, err = ws.ReplayWebhookDelivery(ctx, "beta", "msg_4", T0, T0)
	require.ErrorIs(t, err, nudge.ErrNotFound)

	off, err := ws.DisableWebhookEndpoint(ctx, "whe_1", "failing", T0)
	require.NoError(t, err)
	require.True(t, off)
	off, err = ws.DisableWebhookEndpoint(ctx, "whe_1", "failing", T0)
	require.NoError(t, err)
	require.False(t, off, "disabled once")
	got, err = ws.GetWebhookEndpoint(ctx, "acme", "whe_1")
	require.NoError(t, err)
	require.False(t, got.Enabled)
	require.Equal(t, "failing", got.DisabledReason)
	got.Enabled = true
	require.NoError(t, ws.UpdateWebhookEndpoint(ctx, got, T0))
	got, err = ws.GetWebhookEndpoint(ctx, "acme", "whe_1")
	require.NoError(t, err)
	require.True(t, got.Enabled)
	require.Empty(t, got.DisabledReason)
	every, err := ws.AllWebhookEndpoints(ctx)
	require.NoError(t, err)
	require.Len(t, every, 1)

	require.NoError(t, ws.DeleteWebhookEndpoint(ctx, "acme", "whe_1"))
	require.ErrorIs(t, ws.DeleteWebhookEndpoint(ctx, "acme", "whe_1"), nudge.ErrNotFound)
	_, err = ws.GetWebhookDelivery(ctx, "msg_2")
	require.ErrorIs(t, err, nudge.ErrNotFound, "deliveries go with their endpoint")
}

func deliveryIDs(ds []nudge.WebhookDelivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// testFeedErasure erases a borrower: the feed's entries about them, and
// the public events made from them, no longer hold a number or address.
func testFeedErasure(t *testing.T, s nudge.Store) {
	ws := webhookStore(t, s)
	es, ok := s.(Eraser)
	if !ok {
		t.Skip("the store does not implement Eraser")
	}
	ctx := context.Background()
	a := Account("acme", "A-1")
	require.NoError(t, s.UpsertAccounts(ctx, []nudge.Account{a}, T0))
	for _, d := range []string{
		`{"intent": "opt_out", "reply_id": "rep_1", "from": "` + eraseNumber + `", "channel": "sms"}`,
		`{"status": "sent", "to": "` + eraseEmail + `", "channel": "email", "note": "sent to ` + eraseEmail + `"}`,
	} {
		require.NoError(t, s.AppendEvent(ctx, nudge.Event{Lender: "acme", AccountID: "A-1", Kind: nudge.EventReply,
			Detail: json.RawMessage(d), At: T0}))
	}
	before, _ := readFeed(t, ws, "acme", 0, 10)
	require.Len(t, before, 2)
	require.Contains(t, string(before[0].Event.Detail), eraseNumber, "the fixture holds the number")
	require.NoError(t, es.ErasePersonalData(ctx, "acme", "A-1", T0.Add(time.Hour)))
	after, _ := readFeed(t, ws, "acme", 0, 10)
	require.Len(t, after, 2, "erasure keeps the feed's entries and positions")
	for i, f := range after {
		require.Equal(t, before[i].Position, f.Position)
		pub, ok := nudge.PublicEventOf(f)
		require.True(t, ok)
		b, err := json.Marshal(pub)
		require.NoError(t, err)
		for _, personal := range []string{eraseNumber, eraseEmail, strings.TrimPrefix(eraseNumber, "+1")} {
			require.NotContains(t, string(f.Event.Detail), personal)
			require.NotContains(t, string(b), personal)
		}
	}
}
