package reply_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// TestEmailText takes replies as mail clients write them down to what the
// borrower typed, then checks that Parse understands it as it would a text.
func TestEmailText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		body    string
		want    string
		intent  nudge.Intent
	}{
		{name: "gmail, attribution on two lines", subject: "Re: Your payment of $412.50 is due",
			body: "I will pay $200 on Friday\r\n\r\nOn Mon, Dec 1, 2025 at 9:00 AM Acme Auto Finance <\r\nreplies+abcdefghijklmnopqrstuvwxyz@reply.acme.example> wrote:\r\n\r\n> Hi Ana, your payment of $412.50 is due.\r\n> Reply STOP to opt out.\r\n",
			want: "I will pay $200 on Friday", intent: nudge.IntentPromise},
		{name: "gmail, one-line attribution", subject: "Re: Reminder",
			body: "stop\n\nOn Mon, Dec 1, 2025, Acme Auto Finance <replies@reply.acme.example> wrote:\n> Pay now or we will call you.\n",
			want: "stop", intent: nudge.IntentOptOut},
		{name: "outlook header block", subject: "RE: Reminder",
			body: "Please stop emailing me.\r\n\r\n________________________________\r\nFrom: Acme Auto Finance <reminders@acme.example>\r\nSent: Monday, December 1, 2025 9:00 AM\r\nTo: Ana <ana@example.com>\r\nSubject: Reminder\r\n\r\nI will pay tomorrow\r\n",
			want: "Please stop emailing me.", intent: nudge.IntentOptOut},
		{name: "outlook without a rule", subject: "RE: Reminder",
			body: "Ya pagué\n\nDe: Acme Auto Finance <reminders@acme.example>\nEnviado: lunes, 1 de diciembre de 2025 9:00\nPara: ana@example.com\n",
			want: "Ya pagué", intent: nudge.IntentPaid},
		{name: "spanish gmail", subject: "RE: Recordatorio",
			body: "Pagaré 200 el viernes\n\nEl lun, 1 dic 2025 a las 9:00, Acme <replies@reply.acme.example> escribió:\n> Su pago vence hoy.\n",
			want: "Pagaré 200 el viernes", intent: nudge.IntentPromise},
		{name: "chinese client", subject: "回复：还款提醒",
			body: "别再联系我\n\n在 2025年12月1日 09:00，华夏汽车金融 <replies@reply.hx.example> 写道：\n> 您的还款已到期。\n",
			want: "别再联系我", intent: nudge.IntentOptOut},
		{name: "iphone signature", subject: "Re: Reminder",
			body: "I already paid\n\nSent from my iPhone\n\n> On Dec 1, 2025, at 09:00, Acme wrote:\n",
			want: "I already paid", intent: nudge.IntentPaid},
		{name: "signature delimiter", subject: "Re: Reminder",
			body: "Who is this?\n-- \nAna García\nStop & Shop, aisle 5\n",
			want: "Who is this?", intent: nudge.IntentUnknown},
		{name: "original message separator", subject: "Re: Reminder",
			body: "unsubscribe\n-----Original Message-----\nFrom: reminders@acme.example\nI will pay tomorrow\n",
			want: "unsubscribe", intent: nudge.IntentOptOut},
		{name: "answer in the subject", subject: "Re: Re: STOP", body: "\n> Your payment is due.\n",
			want: "STOP", intent: nudge.IntentOptOut},
		{name: "quoted only, reply subject", subject: "Re: Your payment is due", body: "> Reply STOP to opt out\n",
			want: "Your payment is due", intent: nudge.IntentUnknown},
		{name: "no quote", subject: "question", body: "Can I talk to someone about my loan?\n",
			want: "Can I talk to someone about my loan?", intent: nudge.IntentTalkToPerson},
		{name: "a line that only mentions writing", subject: "Re: x", body: "On Friday I will pay 100\nI wrote down the date\n",
			want: "On Friday I will pay 100\nI wrote down the date", intent: nudge.IntentPromise},
	}
	now := time.Date(2025, 12, 1, 15, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := reply.EmailText(tc.subject, tc.body)
			require.Equal(t, tc.want, got)
			res := reply.Parse(got, reply.Context{Now: now, Location: time.UTC, Language: "en", Country: "US",
				AmountDue: "412.50", Currency: "USD", Channel: nudge.Email})
			require.Equal(t, tc.intent, res.Intent, "%q", got)
			if tc.intent == nudge.IntentOptOut && tc.name != "chinese client" {
				require.Equal(t, []nudge.ChannelKind{nudge.Email}, res.Channels, "an email's stop opts out of email")
			}
		})
	}
}

// FuzzEmailText checks that EmailText only cuts (its result is a piece of
// the body or of the subject) and that a second pass changes nothing.
func FuzzEmailText(f *testing.F) {
	for _, s := range []string{"stop\n\nOn Mon, Dec 1 Acme <\nr@x> wrote:\n> a", "> a", "--", "-- \nsig", "De: a\nPara: b",
		"Re: Re: STOP", "在 2025年 写道：", "________\nFrom: a\nSent: b", "\r\n\r\n", ""} {
		f.Add("Re: subject", s)
	}
	f.Fuzz(func(t *testing.T, subject, body string) {
		got := reply.EmailText(subject, body)
		if got == "" {
			return
		}
		normal := strings.ReplaceAll(body, "\r\n", "\n")
		require.True(t, strings.Contains(normal, got) || strings.Contains(subject, got), "%q is in neither", got)
		require.Equal(t, got, reply.EmailText(subject, got), "a second pass cuts more")
	})
}
