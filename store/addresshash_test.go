package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
)

const hashSecret = "0123456789abcdef0123456789abcdef"

// legacyOptOut writes an opt-out as the store did before migration 0005:
// under the plain SHA-256 of the address.
func legacyOptOut(t *testing.T, path, lender string, ch nudge.ChannelKind, address, stored string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Exec(`INSERT INTO opt_outs (lender, channel, address, address_hash, source, reason, created_at, keyed)
VALUES (?, ?, ?, ?, 'sms_keyword', '', 0, 0)`, lender, string(ch), stored, store.AddressHash(ch, address))
	require.NoError(t, err)
}

func TestAddressHashIsKeyed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string, opts ...store.Option) *store.DB {
		db, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, name), opts...)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		return db
	}
	a, b := open("a.db", store.WithSecret([]byte(hashSecret))), open("b.db", store.WithSecret([]byte("another-secret-another-secret-xx")))
	none := open("c.db")
	const number = "+14155550149"
	h := a.AddressHash(nudge.SMS, number)
	require.Len(t, h, 64)
	require.NotEqual(t, store.AddressHash(nudge.SMS, number), h, "not the plain SHA-256")
	require.NotEqual(t, b.AddressHash(nudge.SMS, number), h, "another secret, another hash")
	require.Equal(t, store.AddressHash(nudge.SMS, number), none.AddressHash(nudge.SMS, number), "without the secret, the plain hash")
	require.Equal(t, h, a.AddressHash(nudge.Voice, " "+number+" "), "the normalised address is hashed")
	require.Equal(t, a.AddressHash(nudge.Email, "ana@example.com"), a.AddressHash(nudge.Email, "Ana@Example.COM"))
}

func TestPlainOptOutHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		kept   = "+14155550149" // its address is still stored
		erased = "+14155550150" // erased before the upgrade: only its hash is left
	)
	path := filepath.Join(t.TempDir(), "nudge.db")
	old, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	require.NoError(t, old.Migrate(ctx))
	require.NoError(t, old.Close())
	legacyOptOut(t, path, "acme", nudge.SMS, kept, kept)
	legacyOptOut(t, path, "acme", nudge.SMS, erased, "")
	legacyOptOut(t, path, "acme", nudge.Voice, erased, "")

	db, err := store.Open(ctx, "sqlite://"+path, store.WithSecret([]byte(hashSecret)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx), "migrating with the secret re-keys what it can")
	hashes := func() map[string]bool {
		oos, err := db.ListOptOuts(ctx, "acme")
		require.NoError(t, err)
		out := map[string]bool{}
		for _, o := range oos {
			out[string(o.Channel)+":"+o.AddressHash] = true
		}
		return out
	}
	require.Equal(t, map[string]bool{
		"sms:" + db.AddressHash(nudge.SMS, kept):          true,
		"sms:" + store.AddressHash(nudge.SMS, erased):     true,
		"voice:" + store.AddressHash(nudge.Voice, erased): true,
	}, hashes())

	tests := []struct {
		name    string
		channel nudge.ChannelKind
		address string
		want    bool
	}{
		{name: "re-keyed", channel: nudge.SMS, address: kept, want: true},
		{name: "plain hash", channel: nudge.SMS, address: erased, want: true},
		{name: "other channel", channel: nudge.Email, address: kept},
	}
	for _, tt := range tests {
		out, err := db.IsOptedOut(ctx, "acme", tt.channel, tt.address)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, out, tt.name)
	}
	require.Equal(t, map[string]bool{
		"sms:" + db.AddressHash(nudge.SMS, kept):          true,
		"sms:" + db.AddressHash(nudge.SMS, erased):        true,
		"voice:" + store.AddressHash(nudge.Voice, erased): true,
	}, hashes(), "a check that sees the number re-keys its hash")

	added, err := db.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.Voice, Address: erased, Source: "voice_keypad", CreatedAt: storetest.T0})
	require.NoError(t, err)
	require.False(t, added, "the plain-hash opt-out was the same one")
	require.Len(t, hashes(), 3)
	removed, err := db.RemoveOptOut(ctx, "acme", nudge.Voice, erased)
	require.NoError(t, err)
	require.True(t, removed)
	n, err := db.RekeyOptOuts(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to re-key")
}

// TestOptOutWithoutSecret records an opt-out through a store opened without
// the secret (a tool): a store with it still honours it, and re-keys it.
func TestOptOutWithoutSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	tool, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, tool.Close()) })
	require.NoError(t, tool.Migrate(ctx))
	db, err := store.Open(ctx, "sqlite://"+path, store.WithSecret([]byte(hashSecret)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	const number = "+14155550149"
	added, err := tool.AddOptOut(ctx, nudge.OptOut{Lender: "acme", Channel: nudge.SMS, Address: number, Source: "api", CreatedAt: storetest.T0})
	require.NoError(t, err)
	require.True(t, added)
	out, err := tool.IsOptedOut(ctx, "acme", nudge.SMS, number)
	require.NoError(t, err)
	require.True(t, out)
	out, err = db.IsOptedOut(ctx, "acme", nudge.SMS, number)
	require.NoError(t, err)
	require.True(t, out, "the deployment honours it")
	oos, err := db.ListOptOuts(ctx, "acme")
	require.NoError(t, err)
	require.Len(t, oos, 1)
	require.Equal(t, db.AddressHash(nudge.SMS, number), oos[0].AddressHash, "and re-keys it")
	out, err = tool.IsOptedOut(ctx, "acme", nudge.SMS, number)
	require.NoError(t, err)
	require.False(t, out, "a tool without the secret cannot read a keyed hash")
}
