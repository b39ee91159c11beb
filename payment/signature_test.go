package payment_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/payment"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	const secret = "nudge_whsec_test"
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	body := []byte(`{"lender":"acme","account_id":"L-1","amount":"137.50","payment_id":"p1"}`)
	ts := fmt.Sprint(now.Unix())
	good := payment.Sign(secret, now, body)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		signature string
		body      []byte
		at        time.Time
		err       error
	}{
		{name: "good", secret: secret, timestamp: ts, signature: good, body: body, at: now},
		{name: "good, 4m59s later", secret: secret, timestamp: ts, signature: good, body: body, at: now.Add(299 * time.Second)},
		{name: "stale, 5m01s later", secret: secret, timestamp: ts, signature: good, body: body, at: now.Add(301 * time.Second), err: payment.ErrStaleSignature},
		{name: "from the future", secret: secret, timestamp: ts, signature: good, body: body, at: now.Add(-6 * time.Minute), err: payment.ErrStaleSignature},
		{name: "other secret", secret: "nudge_whsec_other", timestamp: ts, signature: good, body: body, at: now, err: payment.ErrBadSignature},
		{name: "body changed", secret: secret, timestamp: ts, signature: good, body: []byte(`{"amount":"999"}`), at: now, err: payment.ErrBadSignature},
		{name: "timestamp changed", secret: secret, timestamp: fmt.Sprint(now.Unix() + 1), signature: good, body: body, at: now, err: payment.ErrBadSignature},
		{name: "no scheme", secret: secret, timestamp: ts, signature: good[3:], body: body, at: now, err: payment.ErrMalformedSignature},
		{name: "not hex", secret: secret, timestamp: ts, signature: "v1=zz", body: body, at: now, err: payment.ErrMalformedSignature},
		{name: "no timestamp", secret: secret, timestamp: "", signature: good, body: body, at: now, err: payment.ErrMalformedSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := payment.Verify(tc.secret, tc.timestamp, tc.signature, tc.body, tc.at)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
}

// ExampleSign signs a payment webhook as a lender's payment portal does.
func ExampleSign() {
	body := []byte(`{"lender":"acme","account_ref":"L-100021","amount":"137.50","currency":"USD","paid_at":"2026-12-02T14:58:00Z","payment_id":"pay_8f2k"}`)
	at := time.Unix(1764687600, 0)
	fmt.Println(payment.TimestampHeader+":", at.Unix())
	fmt.Println(payment.SignatureHeader+":", payment.Sign("nudge_whsec_example", at, body))
	// Output:
	// Nudge-Timestamp: 1764687600
	// Nudge-Signature: v1=d5760fb6480b93ffec4a177f3bf78fa9d6c22c7f99f6eb79ac0ff44b70d00745
}
