package smtp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
)

const testTagHeader = "Nudge-Reply-Tag"

// TestSendLenderIdentity sends one message per lender through a sink: a
// lender with its own From and Reply-To gets them (the Reply-To
// plus-addressed with the message's reply tag, the tag header not sent);
// a lender without falls back to smtp.from and smtp.reply_to.
func TestSendLenderIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, func(c *smtp.Config) { c.ReplyTo = "Nudge <replies@nudge.example>" },
		smtp.WithLenders(map[string]smtp.Identity{
			"acme":  {From: "Acme Auto Finance <reminders@acme.example>", ReplyTo: "Acme Auto Finance <replies@reply.acme.example>"},
			"beta":  {From: "Beta Motors <hello@beta.example>"},
			"empty": {},
		}),
		smtp.WithReplyTagHeader(testTagHeader))
	tests := []struct {
		name     string
		lender   string
		tag      string
		wantFrom string
		envelope string
		wantRT   string
	}{
		{name: "own from and reply-to, tagged", lender: "acme", tag: "abcdefghijklmnopqrstuvwxyz",
			wantFrom: `"Acme Auto Finance" <reminders@acme.example>`, envelope: "reminders@acme.example",
			wantRT: `"Acme Auto Finance" <replies+abcdefghijklmnopqrstuvwxyz@reply.acme.example>`},
		{name: "own from, global reply-to", lender: "beta", tag: "zz",
			wantFrom: `"Beta Motors" <hello@beta.example>`, envelope: "hello@beta.example",
			wantRT: `"Nudge" <replies+zz@nudge.example>`},
		{name: "empty identity falls back", lender: "empty",
			wantFrom: `"Acme Auto Finance" <reminders@acme.example>`, envelope: "reminders@acme.example",
			wantRT: `"Nudge" <replies@nudge.example>`},
		{name: "unknown lender falls back", lender: "other", tag: "tt",
			wantFrom: `"Acme Auto Finance" <reminders@acme.example>`, envelope: "reminders@acme.example",
			wantRT: `"Nudge" <replies+tt@nudge.example>`},
	}
	for i, tc := range tests {
		m := render(t, "en")
		m.Lender, m.AttemptID = tc.lender, "att-identity-"+tc.lender
		if tc.tag != "" {
			m.Headers[testTagHeader] = tc.tag
		}
		_, err := b.sender.Send(context.Background(), m)
		require.NoError(t, err, tc.name)
		got := b.sink.Messages()
		require.Len(t, got, i+1)
		rcv := got[i]
		p := parse(t, rcv.Data)
		require.Equal(t, tc.wantFrom, p.header.Get("From"), tc.name)
		require.Equal(t, tc.envelope, rcv.From, tc.name)
		require.Equal(t, tc.wantRT, p.header.Get("Reply-To"), tc.name)
		require.NotContains(t, strings.ToLower(string(rcv.Data)), strings.ToLower(testTagHeader), tc.name)
		key, _ := b.sender.SenderRate(m)
		require.Equal(t, "smtp:"+tc.envelope, key, "%s: the rate is the sending address's", tc.name)
	}
}

// TestSendWithoutReplyTo sends without any Reply-To configured: the
// message has none, and the tag header is dropped.
func TestSendWithoutReplyTo(t *testing.T) {
	t.Parallel()
	b := setup(t, smtpsink.Options{}, nil, smtp.WithReplyTagHeader(testTagHeader))
	m := render(t, "en")
	m.Headers[testTagHeader] = "abc"
	_, err := b.sender.Send(context.Background(), m)
	require.NoError(t, err)
	got := b.sink.Messages()
	require.Len(t, got, 1)
	p := parse(t, got[0].Data)
	require.Empty(t, p.header.Get("Reply-To"))
	require.NotContains(t, string(got[0].Data), "abc@")
}

// TestNewRefusesBadLenderIdentity names the lender and the field.
func TestNewRefusesBadLenderIdentity(t *testing.T) {
	t.Parallel()
	_, err := smtp.New(smtp.Config{Host: "mail.example", From: "a@acme.example"},
		smtp.WithLenders(map[string]smtp.Identity{"acme": {From: "reminders", ReplyTo: "replies@"}}))
	require.ErrorContains(t, err, "lender acme.email_from")
	require.ErrorContains(t, err, "lender acme.email_reply_to")
}

// TestReplyAddress plus-addresses and splits reply addresses.
func TestReplyAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, tag, want string
	}{
		{name: "plain", base: "replies@reply.acme.example", tag: "abc", want: "replies+abc@reply.acme.example"},
		{name: "no tag", base: "replies@reply.acme.example", want: "replies@reply.acme.example"},
		{name: "base with a tag", base: "replies+acme@mg.example", tag: "abc", want: "replies+acme+abc@mg.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := smtp.ReplyAddress(tc.base, tc.tag)
			require.Equal(t, tc.want, got)
			base, tag, ok := smtp.ReplyTag(got)
			require.Equal(t, tc.tag != "", ok)
			if ok {
				require.Equal(t, tc.base, base)
				require.Equal(t, tc.tag, tag)
			}
		})
	}
	_, _, ok := smtp.ReplyTag("no-at-sign")
	require.False(t, ok)
}
