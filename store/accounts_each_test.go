package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

func TestSQLiteUpsertAccountsEach(t *testing.T) {
	t.Parallel()
	testUpsertAccountsEach(t, openSQLite, false)
}

func TestPostgresUpsertAccountsEach(t *testing.T) {
	t.Parallel()
	testUpsertAccountsEach(t, postgresOpener(t), true)
}

// testUpsertAccountsEach writes batches with accounts the database refuses
// (validation bypassed, as a caller of the store could): each refusal is
// reported by index with its field, and the others are written, or with
// keepGood false nothing is.
func testUpsertAccountsEach(t *testing.T, open func(t *testing.T) *store.DB, postgres bool) {
	t.Helper()
	with := func(id string, change func(a *nudge.Account)) nudge.Account {
		a := storetest.Account("acme", id)
		change(&a)
		return a
	}
	// Refused by both databases: a CHECK constraint, and a repeated account.
	batch := []nudge.Account{
		storetest.Account("acme", "A-0"),
		with("A-1", func(a *nudge.Account) { a.Status = "late" }),
		with("A-0", func(a *nudge.Account) { a.Borrower.Name = "Second" }),
		with("A-2", func(a *nudge.Account) { a.DueDate = nudge.Date{Year: 0, Month: 1, Day: 1} }),
		with("A-3", func(a *nudge.Account) { a.Borrower.Name = "Jos\xe9" }),
		with("A-4", func(a *nudge.Account) { a.Borrower.Name = "Ana\x00Diaz" }),
		with("A-5", func(a *nudge.Account) { a.Contacts[2].Address = "ana\xff@example.com" }),
		storetest.Account("acme", "A-6"),
	}
	type refusal struct {
		index int
		field string
	}
	want := []refusal{{1, ""}, {2, "id"}}
	written := []string{"A-0", "A-2", "A-3", "A-4", "A-5", "A-6"}
	if postgres {
		// PostgreSQL also refuses year 0, invalid UTF-8 and NUL, without
		// naming a column; it names the column of a CHECK constraint.
		want = []refusal{{1, "status"}, {2, "id"}, {3, ""}, {4, ""}, {5, ""}, {6, ""}}
		written = []string{"A-0", "A-6"}
	}
	tests := []struct {
		name     string
		keepGood bool
	}{
		{name: "keep the good accounts", keepGood: true},
		{name: "all or nothing", keepGood: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			ctx := context.Background()
			refused, err := db.UpsertAccountsEach(ctx, batch, storetest.T0, tt.keepGood)
			require.NoError(t, err)
			got := make([]refusal, len(refused))
			for i, r := range refused {
				got[i] = refusal{r.Index, r.Field}
				require.NotEmpty(t, r.Message)
				require.Error(t, r.Err)
			}
			require.Equal(t, want, got)
			for _, id := range written {
				a, err := db.GetAccount(ctx, "acme", id)
				if !tt.keepGood {
					require.ErrorIs(t, err, nudge.ErrNotFound, "nothing is written")
					continue
				}
				require.NoError(t, err, id)
				require.Len(t, a.Contacts, 3, "contacts are written with their account")
			}
			if tt.keepGood {
				a, err := db.GetAccount(ctx, "acme", "A-0")
				require.NoError(t, err)
				require.Equal(t, "Ana Diaz", a.Borrower.Name, "the first of two accounts with one id is written")
			}
			_, err = db.GetAccount(ctx, "acme", "A-1")
			require.ErrorIs(t, err, nudge.ErrNotFound)
		})
	}

	t.Run("a refusal in a large batch", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ctx := context.Background()
		accts := make([]nudge.Account, 0, 4000)
		for i := range cap(accts) {
			accts = append(accts, storetest.Account("acme", fmt.Sprintf("L-%04d", i)))
		}
		accts[2500].Status = "late" // in the second chunk
		refused, err := db.UpsertAccountsEach(ctx, accts, storetest.T0, true)
		require.NoError(t, err)
		require.Len(t, refused, 1)
		require.Equal(t, 2500, refused[0].Index)
		for _, i := range []int{0, 1874, 1875, 2499, 2501, 3999} {
			_, err := db.GetAccount(ctx, "acme", fmt.Sprintf("L-%04d", i))
			require.NoError(t, err, "account %d", i)
		}
	})
}
