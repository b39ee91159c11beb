package response_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/response"
)

const anaEmail = "ana.garcia@example.com"

// emailAccount is testAccount with an email address too.
func emailAccount(id string) nudge.Account {
	a := testAccount(id, "en", "+14155550123")
	a.Contacts = append(a.Contacts, nudge.Contact{Channel: nudge.Email, Address: anaEmail, Consent: true})
	return a
}

// TestHandleEmailNamedAccount handles email replies naming their account
// (as a reply token does): "stop" opts the address out of email only, under
// the email sources; a reply naming an account that lacks the address
// changes nothing.
func TestHandleEmailNamedAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Another lender's account has the same address: it is not touched.
	require.NoError(t, b.db.UpsertLender(ctx, nudge.Lender{ID: "beta", Name: "Beta", Language: "en", CreatedAt: t0}))
	other := emailAccount("B-1")
	other.Lender = "beta"
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{emailAccount("A-1"), other}, t0))

	out, err := b.handler.Handle(ctx, response.Inbound{Channel: nudge.Email, From: anaEmail, To: "replies@reply.acme.example",
		Body: "STOP", ProviderID: "<m1@example.com>", Lender: lender, AccountID: "A-1"})
	require.NoError(t, err)
	require.Equal(t, nudge.IntentOptOut, out.Reply.Intent)
	require.Equal(t, "A-1", out.Reply.AccountID)
	opts, err := b.db.ListOptOuts(ctx, lender)
	require.NoError(t, err)
	require.Len(t, opts, 1)
	require.Equal(t, nudge.Email, opts[0].Channel)
	require.Equal(t, response.SourceEmailKeyword, opts[0].Source)
	beta, err := b.db.ListOptOuts(ctx, "beta")
	require.NoError(t, err)
	require.Empty(t, beta, "the other lender's account was not named")

	_, err = b.handler.Handle(ctx, response.Inbound{Channel: nudge.Email, From: anaEmail, Body: "please stop emailing me",
		ProviderID: "<m2@example.com>", Lender: lender, AccountID: "A-1"})
	require.NoError(t, err)
	opts, err = b.db.ListOptOuts(ctx, lender)
	require.NoError(t, err)
	require.Len(t, opts, 1, "already opted out")

	_, err = b.handler.Handle(ctx, response.Inbound{Channel: nudge.Email, From: "someone@example.com", Body: "STOP",
		ProviderID: "<m3@example.com>", Lender: lender, AccountID: "A-1"})
	require.ErrorIs(t, err, response.ErrUnmatched)
	_, err = b.handler.Handle(ctx, response.Inbound{Channel: nudge.Email, From: anaEmail, Body: "STOP",
		ProviderID: "<m4@example.com>", Lender: lender, AccountID: "A-404"})
	require.ErrorIs(t, err, response.ErrUnmatched)
	replies, err := b.db.ListReplies(ctx, lender, false)
	require.NoError(t, err)
	require.Len(t, replies, 2, "unmatched answers are not recorded")
}
