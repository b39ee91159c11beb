package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// TestPostPaymentRepeat: a payment posted again with its reference is a
// repeat that changes nothing; a reference of another account conflicts.
func TestPostPaymentRepeat(t *testing.T) {
	t.Parallel()
	b := setupAPI(t)
	ctx := context.Background()
	code, body := b.do(t, "operator", "POST", "/v1/accounts/A-1/payments", "application/json", `{"amount": "412.50", "reference": "chk-1"}`)
	require.Equal(t, http.StatusOK, code, body)
	events, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)

	code, body = b.do(t, "operator", "POST", "/v1/accounts/A-1/payments", "application/json", `{"amount": "412.50", "reference": "chk-1"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"account_id": "A-1", "payment_id": "chk-1", "status": "paid", "duplicate": true, "canceled": 0}`, body)
	again, err := b.db.Events(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, again, len(events), "a repeat records no event")

	other := nudge.Account{ID: "A-2", Lender: "acme", Currency: "USD", AmountDue: "10.00", DueDate: nudge.MustDate("2026-06-04"), Status: nudge.StatusActive}
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{other}, apiT0))
	code, body = b.do(t, "operator", "POST", "/v1/accounts/A-2/payments", "application/json", `{"amount": "10.00", "reference": "chk-1"}`)
	require.Equal(t, http.StatusConflict, code, body)
	a2, err := b.db.GetAccount(ctx, "acme", "A-2")
	require.NoError(t, err)
	require.Equal(t, nudge.StatusActive, a2.Status, "nothing changed on the other account")

	code, body = b.do(t, "operator", "POST", "/v1/accounts/A-2/payments", "application/json", `{"amount": "10.00", "currency": "EUR"}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `"field":"currency"`)
}
