package compliance

import (
	"strings"
	"testing"

	"github.com/nudgehq/nudge"
	"github.com/stretchr/testify/require"
)

func TestReadHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		wantErr string
		check   func(t *testing.T, got []nudge.Attempt)
	}{
		{name: "lines sorted oldest first", input: `{"channel":"voice","status":"completed","at":"2026-03-01T15:00:00Z","address":"+12125550123","answered_by":"human","conversation":true}

{"channel":"sms","status":"delivered","at":"2026-02-28T15:00:00-05:00"}
`, check: func(t *testing.T, got []nudge.Attempt) {
			require.Len(t, got, 2)
			require.Equal(t, nudge.SMS, got[0].Channel)
			require.Equal(t, utc(t, "2026-02-28T20:00:00Z"), got[0].CreatedAt)
			require.Equal(t, nudge.Attempt{
				Channel: nudge.Voice, Status: nudge.AttemptCompleted, Address: "+12125550123", AnsweredBy: "human", Conversation: true,
				CreatedAt: utc(t, "2026-03-01T15:00:00Z"), SentAt: utc(t, "2026-03-01T15:00:00Z"), UpdatedAt: utc(t, "2026-03-01T15:00:00Z"),
			}, got[1])
		}},
		{name: "empty", input: "", check: func(t *testing.T, got []nudge.Attempt) { require.Empty(t, got) }},
		{name: "unknown key", input: "{\"channel\":\"sms\",\"status\":\"sent\",\"at\":\"2026-03-01T15:00:00Z\"}\n{\"channel\":\"sms\",\"when\":\"x\"}\n", wantErr: "history line 2: json: unknown field \"when\""},
		{name: "bad channel", input: `{"channel":"fax","status":"sent","at":"2026-03-01T15:00:00Z"}`, wantErr: "history line 1: channel \"fax\""},
		{name: "bad status", input: `{"channel":"sms","status":"lost","at":"2026-03-01T15:00:00Z"}`, wantErr: "history line 1: unknown status \"lost\""},
		{name: "missing at", input: `{"channel":"sms","status":"sent"}`, wantErr: "history line 1: at is required"},
		{name: "bad time", input: `{"channel":"sms","status":"sent","at":"yesterday"}`, wantErr: "history line 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadHistory(strings.NewReader(tc.input))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, got)
		})
	}
}
