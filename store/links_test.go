package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

func TestLinks(t *testing.T) {
	t.Parallel()
	t0 := storetest.T0
	self := link.Link{Purpose: link.SelfService, Lender: "acme", AccountID: "A-1", Channel: nudge.SMS, Address: "+15125550100",
		CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	tests := []struct {
		name      string
		first     link.Link
		second    func(l link.Link) link.Link
		reuseFrom time.Time
		same      bool
		err       bool
	}{
		{name: "reused while enough time is left", first: self, second: func(l link.Link) link.Link { return l },
			reuseFrom: t0.Add(15 * 24 * time.Hour), same: true},
		{name: "new once too little is left", first: self, second: func(l link.Link) link.Link { return l },
			reuseFrom: t0.Add(31 * 24 * time.Hour)},
		{name: "another address", first: self, second: func(l link.Link) link.Link { l.Channel, l.Address = nudge.Email, "ana@example.com"; return l }},
		{name: "another purpose", first: self, second: func(l link.Link) link.Link { l.Purpose = link.Unsubscribe; return l }},
		{name: "no expiry reuses no expiry", first: func() link.Link { l := self; l.Purpose, l.ExpiresAt = link.Unsubscribe, time.Time{}; return l }(),
			second: func(l link.Link) link.Link { return l }, same: true},
		{name: "voice per attempt", first: func() link.Link {
			l := self
			l.Purpose, l.Channel, l.Attempt = link.Voice, nudge.Voice, "att_1"
			return l
		}(),
			second: func(l link.Link) link.Link { l.Attempt = "att_2"; return l }, reuseFrom: t0},
		{name: "not a contact", first: self, second: func(l link.Link) link.Link { l.Address = "+15125550999"; return l }, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openSQLite(t)
			require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{storetest.Account("acme", "A-1")}, t0))
			first := tt.first
			first.Token = link.NewToken()
			got, err := db.IssueLink(ctx, first, t0)
			require.NoError(t, err)
			require.Equal(t, first, got)
			second := tt.second(first)
			second.Token = link.NewToken()
			got, err = db.IssueLink(ctx, second, tt.reuseFrom)
			if tt.err {
				require.ErrorIs(t, err, nudge.ErrNotFound)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.same, got.Token == first.Token)
			stored, err := db.GetLink(ctx, got.Token)
			require.NoError(t, err)
			require.Equal(t, got, stored)
		})
	}
}

func TestLinksRevokedAndPurged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSQLite(t)
	t0 := storetest.T0
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{storetest.Account("acme", "A-1"), storetest.Account("acme", "A-2")}, t0))
	issue := func(account string, at time.Time, ttl time.Duration) link.Link {
		l := link.Link{Token: link.NewToken(), Purpose: link.Voice, Lender: "acme", AccountID: account, Channel: nudge.Voice,
			Address: "+15125550100", Attempt: link.NewToken(), CreatedAt: at, ExpiresAt: at.Add(ttl)}
		got, err := db.IssueLink(ctx, l, at)
		require.NoError(t, err)
		return got
	}
	old := issue("A-1", t0, time.Hour)
	recent := issue("A-1", t0.Add(store.ExpiredLinkRetention), time.Hour)
	_, err := db.GetLink(ctx, old.Token)
	require.NoError(t, err, "expired, but not long enough ago")
	issue("A-2", t0.Add(store.ExpiredLinkRetention+2*time.Hour), time.Hour)
	_, err = db.GetLink(ctx, old.Token)
	require.ErrorIs(t, err, nudge.ErrNotFound, "purged once past the retention")

	n, err := db.RevokeLinks(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = db.GetLink(ctx, recent.Token)
	require.ErrorIs(t, err, nudge.ErrNotFound)
	_, err = db.GetLink(ctx, link.NewToken())
	require.ErrorIs(t, err, nudge.ErrNotFound)

	require.NoError(t, db.ErasePersonalData(ctx, "acme", "A-2", t0.Add(time.Hour)))
	l := link.Link{Token: link.NewToken(), Purpose: link.SelfService, Lender: "acme", AccountID: "A-2", Channel: nudge.SMS,
		Address: "+15125550100", CreatedAt: t0.Add(time.Hour)}
	_, err = db.IssueLink(ctx, l, time.Time{})
	require.ErrorIs(t, err, nudge.ErrNotFound, "no new link names an erased borrower")
}

// TestLinksIssuedTogether issues links from many goroutines at once, so
// that they share transactions: every issue of one subject gets the same
// token, each subject's is stored once, and an issue for an address that is
// no contact fails alone.
func TestLinksIssuedTogether(t *testing.T) {
	t.Parallel()
	backends := map[string]func(t *testing.T) *store.DB{"sqlite": openSQLite}
	if os.Getenv("NUDGE_TEST_DATABASE_URL") != "" || os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
		backends["postgres"] = func(t *testing.T) *store.DB { return postgresOpener(t)(t) }
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := open(t)
			t0 := storetest.T0
			var accounts []nudge.Account
			for i := range 8 {
				accounts = append(accounts, storetest.Account("acme", fmt.Sprintf("A-%d", i)))
			}
			require.NoError(t, db.UpsertAccounts(ctx, accounts, t0))
			const perSubject = 6
			tokens := make([][]string, len(accounts))
			errs := make([]error, len(accounts)*perSubject)
			var wg sync.WaitGroup
			for i := range accounts {
				tokens[i] = make([]string, perSubject)
				for j := range perSubject {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l := link.Link{Token: link.NewToken(), Purpose: link.SelfService, Lender: "acme", AccountID: accounts[i].ID,
							Channel: nudge.SMS, Address: "+15125550100", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
						if j == perSubject-1 && i%2 == 0 {
							l.Address = "+15125550999" // not a contact
						}
						got, err := db.IssueLink(ctx, l, t0.Add(12*time.Hour))
						tokens[i][j], errs[i*perSubject+j] = got.Token, err
					}()
				}
			}
			wg.Wait()
			seen := map[string]bool{}
			for i := range accounts {
				for j, tok := range tokens[i] {
					err := errs[i*perSubject+j]
					if j == perSubject-1 && i%2 == 0 {
						require.ErrorIs(t, err, nudge.ErrNotFound, "account %d", i)
						continue
					}
					require.NoError(t, err)
					require.Equal(t, tokens[i][0], tok, "one token for account %d", i)
				}
				require.False(t, seen[tokens[i][0]], "a token per account")
				seen[tokens[i][0]] = true
				stored, err := db.GetLink(ctx, tokens[i][0])
				require.NoError(t, err)
				require.Equal(t, accounts[i].ID, stored.AccountID)
			}

			// A second wave mixes issues that find their token (the first
			// wave's accounts) with issues that store one (new accounts):
			// each gets its own account's.
			fresh := []nudge.Account{storetest.Account("acme", "B-0"), storetest.Account("acme", "B-1")}
			require.NoError(t, db.UpsertAccounts(ctx, fresh, t0))
			all := append(slices.Clone(accounts), fresh...)
			again := make([]link.Link, len(all))
			errs = make([]error, len(all))
			for i, a := range all {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := link.Link{Token: link.NewToken(), Purpose: link.SelfService, Lender: "acme", AccountID: a.ID,
						Channel: nudge.SMS, Address: "+15125550100", CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(25 * time.Hour)}
					again[i], errs[i] = db.IssueLink(ctx, l, t0.Add(13*time.Hour))
				}()
			}
			wg.Wait()
			for i, a := range all {
				require.NoError(t, errs[i])
				require.Equal(t, a.ID, again[i].AccountID)
				if i < len(accounts) {
					require.Equal(t, tokens[i][0], again[i].Token, "account %s reuses its token", a.ID)
					continue
				}
				require.False(t, seen[again[i].Token], "account %s gets a token of its own", a.ID)
				seen[again[i].Token] = true
				stored, err := db.GetLink(ctx, again[i].Token)
				require.NoError(t, err)
				require.Equal(t, a.ID, stored.AccountID)
			}
		})
	}
}

func TestLinkPurgeWaitsOnlyWhenCaughtUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSQLite(t)
	t0 := storetest.T0
	require.NoError(t, db.UpsertAccounts(ctx, []nudge.Account{storetest.Account("acme", "A-1")}, t0))
	issue := func(at time.Time) link.Link {
		l := link.Link{Token: link.NewToken(), Purpose: link.Voice, Lender: "acme", AccountID: "A-1", Channel: nudge.Voice,
			Address: "+15125550100", Attempt: link.NewToken(), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		got, err := db.IssueLink(ctx, l, at)
		require.NoError(t, err)
		return got
	}
	stored := func(ls []link.Link) int {
		n := 0
		for _, l := range ls {
			if _, err := db.GetLink(ctx, l.Token); err == nil {
				n++
			}
		}
		return n
	}
	// 150 tokens, all past the retention by the time of the issues below.
	var old []link.Link
	for i := range 150 {
		old = append(old, issue(t0.Add(time.Duration(i)*time.Second)))
	}
	past := t0.Add(store.ExpiredLinkRetention + 2*time.Hour)
	issue(past)
	require.Equal(t, 50, stored(old), "a purge deletes a batch of 100")
	issue(past.Add(time.Second))
	require.Equal(t, 0, stored(old), "behind: the next issue purges again at once")

	// Caught up: a token past the retention waits for the minute.
	late := issue(t0.Add(time.Hour))
	issue(past.Add(3 * time.Second))
	require.Equal(t, 1, stored([]link.Link{late}), "caught up a moment ago: no purge yet")
	issue(past.Add(2 * time.Minute))
	require.Equal(t, 0, stored([]link.Link{late}), "a minute after the last purge, purged")
}
