package dispatcher

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestQueueFor(t *testing.T) {
	t.Parallel()
	q, err := QueueFor(nudge.SMS, "acme")
	require.NoError(t, err)
	require.Equal(t, "sms:acme", q)
	q, err = QueueFor(nudge.Email, "b:c")
	require.NoError(t, err)
	require.Equal(t, "email:b:c", q)
	_, err = QueueFor(nudge.SMS, "")
	require.ErrorContains(t, err, "empty lender")
	_, err = QueueFor("fax", "acme")
	require.ErrorContains(t, err, "fax")
}

func TestParseQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, queue, channel, lender string
		ok                           bool
	}{
		{name: "sms", queue: "sms:acme", channel: "sms", lender: "acme", ok: true},
		{name: "voice", queue: "voice:zeta", channel: "voice", lender: "zeta", ok: true},
		{name: "lender with colon", queue: "email:b:c", channel: "email", lender: "b:c", ok: true},
		{name: "legacy", queue: "sms"},
		{name: "critical", queue: "critical"},
		{name: "critical with suffix", queue: "critical:acme"},
		{name: "unknown channel", queue: "fax:acme"},
		{name: "empty lender", queue: "sms:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch, l, ok := ParseQueue(tc.queue)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.channel, ch)
			require.Equal(t, tc.lender, l)
		})
	}
}

func TestQueueWeights(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		discovered []string
		weight     func(string) int
		want       map[string]int
	}{
		{
			name: "no lender queue yet",
			want: map[string]int{"critical": 6, "sms": 3, "voice": 2, "email": 1, "tasks": 1, "webhooks": 1},
		},
		{
			name:       "two lenders, default weights, other software's queue ignored",
			discovered: []string{"sms:a", "sms:b", "email:a", "tasks:b", "critical", "sms", "webhooks", "default"},
			want: map[string]int{"critical": 12, "sms": 3, "voice": 2, "email": 1, "tasks": 1, "webhooks": 1,
				"sms:a": 3, "sms:b": 3, "email:a": 1, "tasks:b": 1},
		},
		{
			name:       "lender weights multiply the channel's",
			discovered: []string{"sms:a", "voice:a", "sms:b"},
			weight: func(l string) int {
				if l == "b" {
					return 4
				}
				return 0 // unset: the default
			},
			want: map[string]int{"critical": 30, "sms": 3, "voice": 2, "email": 1, "tasks": 1, "webhooks": 1,
				"sms:a": 3, "voice:a": 2, "sms:b": 12},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, QueueWeights(tc.discovered, tc.weight))
		})
	}
}
