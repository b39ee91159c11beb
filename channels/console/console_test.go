package console_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/console"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSendPrintsMaskedMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		msg     nudge.Message
		want    []string
		notWant string
	}{
		{
			name:    "sms",
			msg:     nudge.Message{AttemptID: "att_1", ReminderID: "rem_1", Channel: nudge.SMS, To: "+14155550123", Locale: "en", Text: "Your payment is due."},
			want:    []string{"[console-1] sms to +1********23", "attempt att_1", "  | Your payment is due."},
			notWant: "4155550123",
		},
		{
			name:    "email",
			msg:     nudge.Message{AttemptID: "att_2", Channel: nudge.Email, To: "jane@example.com", Subject: "Reminder", Text: "Hello\nBye"},
			want:    []string{"email to j***@example.com", "subject: Reminder", "  | Hello\n  | Bye\n"},
			notWant: "jane@",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			s := console.New(&buf)
			res, err := s.Send(context.Background(), &tt.msg)
			require.NoError(t, err)
			require.Equal(t, "console-1", res.ProviderID)
			require.Equal(t, nudge.AttemptSent, res.Status)
			for _, w := range tt.want {
				require.Contains(t, buf.String(), w)
			}
			require.NotContains(t, buf.String(), tt.notWant)
		})
	}
}

func TestSendIDsAreUnique(t *testing.T) {
	t.Parallel()
	s := console.New(&bytes.Buffer{})
	a, err := s.Send(context.Background(), &nudge.Message{To: "+14155550123"})
	require.NoError(t, err)
	b, err := s.Send(context.Background(), &nudge.Message{To: "+14155550123"})
	require.NoError(t, err)
	require.NotEqual(t, a.ProviderID, b.ProviderID)
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	s := console.New(failingWriter{})
	_, err := s.Send(context.Background(), &nudge.Message{AttemptID: "att_1"})
	pe, ok := nudge.AsProviderError(err)
	require.True(t, ok)
	require.True(t, pe.Retry)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = console.New(&bytes.Buffer{}).Send(ctx, &nudge.Message{})
	require.ErrorIs(t, err, context.Canceled)
}
