package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// maDoc is a borrower in Boston, Massachusetts.
const maDoc = `{"id": "L-2001", "lender": "demo",
 "borrower": {"name": "Maria Silva", "language": "en"},
 "address": {"country": "US", "region": "MA", "postal_code": "02110"},
 "contacts": [{"channel": "sms", "address": "+16175550123", "consent": true},
              {"channel": "voice", "address": "+16175550123", "consent": true}],
 "currency": "USD", "amount_due": "300.00", "due_date": "2026-06-01",
 "status": "active", "holds": []}`

// inDoc is a borrower in Bengaluru, India.
const inDoc = `{"id": "L-3001", "lender": "demo",
 "borrower": {"name": "Priya Rao", "language": "en"},
 "address": {"country": "IN", "region": "KA", "postal_code": "560001"},
 "contacts": [{"channel": "sms", "address": "+919812345678", "consent": true},
              {"channel": "voice", "address": "+919812345678", "consent": true}],
 "currency": "INR", "amount_due": "12000.00", "due_date": "2026-06-01",
 "status": "active", "holds": []}`

// explainJSON runs nudge explain with args and decodes its JSON answer.
func explainJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, _, err := runCLI(t, append([]string{"explain"}, args...)...)
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &d), out)
	return d
}

func TestExplainJurisdictions(t *testing.T) {
	t.Parallel()
	// Two calls on Sunday 2026-06-07 and Tuesday 2026-06-09; the third is
	// asked on Wednesday 2026-06-10 at 12:00 in Boston.
	maHistory := `{"channel":"voice","status":"no-answer","at":"2026-06-07T16:00:00Z","address":"+16175550123"}
{"channel":"voice","status":"completed","at":"2026-06-09T16:00:00Z","address":"+16175550123","answered_by":"machine_start"}
`
	tests := []struct {
		name      string
		doc       string
		history   string
		channel   string
		at        string
		action    string
		until     string
		reason    string
		rule      string
		applied   []any
		decidedBy string
	}{
		{name: "Massachusetts: 2 calls in the last 7 days defer the third", doc: maDoc, history: maHistory, channel: "voice",
			at: "2026-06-10T16:00:00Z", action: "defer", until: "2026-06-14T16:00:00Z", reason: "call_cap", rule: "940 CMR 7.04(1)(f)",
			applied: []any{"us", "us-ma"}, decidedBy: "us-ma"},
		{name: "Massachusetts: a text is not a call", doc: maDoc, history: maHistory, channel: "sms",
			at: "2026-06-10T16:00:00Z", action: "send", applied: []any{"us", "us-ma"}, decidedBy: "us"},
		{name: "India: 19:30 local defers until 08:00", doc: inDoc, channel: "sms",
			at: "2026-06-10T14:00:00Z", action: "defer", until: "2026-06-11T02:30:00Z", reason: "quiet_hours",
			rule: "RBI circular of 2022-08-12 on recovery agents", applied: []any{"us", "in"}, decidedBy: "in"},
		{name: "India: 18:00 local sends", doc: inDoc, channel: "voice",
			at: "2026-06-10T12:30:00Z", action: "send", rule: "RBI circular of 2022-08-12 on recovery agents",
			applied: []any{"us", "in"}, decidedBy: "in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--account", writeFile(t, "acct.json", tt.doc), "--channel", tt.channel, "--at", tt.at}
			if tt.history != "" {
				args = append(args, "--history", writeFile(t, "history.ndjson", tt.history))
			}
			d := explainJSON(t, args...)
			require.Equal(t, tt.action, d["action"])
			if tt.until != "" {
				require.Equal(t, tt.until, d["until"])
			}
			if tt.reason != "" {
				require.Equal(t, tt.reason, d["reason"])
			}
			if tt.rule != "" {
				require.Equal(t, tt.rule, d["rule"])
			}
			require.Equal(t, tt.applied, d["applied"])
			require.Equal(t, tt.decidedBy, d["decided_by"])
			require.Equal(t, "us", d["profile"])
		})
	}

	t.Run("the sentence names the profiles", func(t *testing.T) {
		t.Parallel()
		out, _, err := runCLI(t, "explain", "--account", writeFile(t, "acct.json", inDoc), "--channel", "sms",
			"--at", "2026-06-10T14:00:00Z", "--text")
		require.NoError(t, err)
		require.Contains(t, out, "Deferred until 2026-06-11 08:00 IST (Asia/Kolkata)")
		require.Contains(t, out, "[RBI circular of 2022-08-12 on recovery agents]")
		require.Contains(t, out, "Profiles applied: us, in; decided by in.")
	})
}

func TestExplainUnknownTimezone(t *testing.T) {
	t.Parallel()
	mars := strings.Replace(anaDoc, `"timezone": "America/New_York"`, `"timezone": "Mars/Olympus"`, 1)
	d := explainJSON(t, "--account", writeFile(t, "acct.json", mars), "--channel", "sms", "--at", "2026-06-10T16:00:00Z")
	require.Equal(t, "suppress", d["action"])
	require.Equal(t, "unknown_timezone", d["reason"])
	require.Equal(t, "Nudge policy: a stated time zone must exist", d["rule"])
	require.Equal(t, "Suppressed: the stated time zone Mars/Olympus does not exist.", d["explanation"])
	require.Contains(t, d["zones"], "Mars/Olympus")

	// Any other problem still refuses the document, naming every problem.
	worse := strings.Replace(mars, `"currency": "USD"`, `"currency": "dollars"`, 1)
	_, _, err := runCLI(t, "explain", "--account", writeFile(t, "acct.json", worse), "--channel", "sms", "--at", "2026-06-10T16:00:00Z")
	require.ErrorContains(t, err, "borrower.timezone")
	require.ErrorContains(t, err, "currency")
}
