package web_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// keyMap is a KeyStore of keys by hash.
type keyMap struct {
	keys map[string]nudge.APIKey
	err  error
}

func (m keyMap) APIKeyByHash(_ context.Context, hash string) (nudge.APIKey, error) {
	if m.err != nil {
		return nudge.APIKey{}, m.err
	}
	k, ok := m.keys[hash]
	if !ok {
		return nudge.APIKey{}, nudge.ErrNotFound
	}
	return k, nil
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 15, 0, 0, 0, time.UTC)
	token, key, err := web.NewAPIKey("acme", nudge.RoleOperator, now)
	require.NoError(t, err)
	revokedToken, revoked, err := web.NewAPIKey("acme", nudge.RoleAdmin, now)
	require.NoError(t, err)
	revoked.RevokedAt = now
	store := keyMap{keys: map[string]nudge.APIKey{key.Hash: key, revoked.Hash: revoked}}

	got, err := web.Authenticate(ctx, store, token)
	require.NoError(t, err)
	require.Equal(t, key, got)

	_, secret, err := web.ParseAPIToken(token)
	require.NoError(t, err)
	for name, tok := range map[string]string{
		"malformed":      "not-a-token",
		"unknown secret": web.APITokenPrefix + key.ID + "_" + "wrongsecret",
		"another id":     web.APITokenPrefix + "otherid" + "_" + secret,
		"revoked":        revokedToken,
	} {
		_, err := web.Authenticate(ctx, store, tok)
		require.ErrorIs(t, err, web.ErrInvalidKey, name)
	}

	down := errors.New("database down")
	_, err = web.Authenticate(ctx, keyMap{err: down}, token)
	require.ErrorIs(t, err, down)
	require.NotErrorIs(t, err, web.ErrInvalidKey)
}
