package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/mailgun"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/web/webhooks"
)

// redisDBEmail is the database of NUDGE_TEST_REDIS_ADDR TestEmailReplies owns.
const redisDBEmail = 7

const (
	emailLender   = "mail"
	emailKey      = "key-e2e-mailgun-signing-0123456789"
	emailBorrower = "ana.garcia@example.com"
	emailCadence  = `name: e2e-email
profile: us
applies_to:
  days_past_due: {min: -5, max: 30}
steps:
  - {id: due-email, day: 0, at: "00:00", channel: email, template: due_email}
`
)

// TestEmailReplies runs the api, scheduler and worker roles in-process
// against an SMTP sink: the reminder email goes out with the lender's own
// From, DKIM-signed with the lender's key, and a Reply-To tagged with an
// opaque reply token; replies to that address posted to the Mailgun route
// become a promise, a review for a person and an email opt-out, and forged
// or unmatched posts change nothing.
func TestEmailReplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	_, rdb := e2eRedis(t, redisDBEmail)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	zone, today := e2eZone(time.Now())
	dkimKey := DKIMConfig{Domain: "acme.example", Selector: "e2e", PrivateKey: ed25519PEM(t)}

	cfg := Config{
		Database: e2eDatabase(t, dir), Addr: ln.Addr().String(), PublicURL: base, Secret: strings.Repeat("s", 32),
		Lenders: []LenderConfig{{ID: emailLender, Name: "Acme Auto Finance", Language: "en", Timezone: "America/New_York",
			EmailFrom: "Acme Auto Finance <reminders@acme.example>", EmailReplyTo: "Acme Auto Finance <replies@reply.acme.example>",
			DKIM: []DKIMConfig{dkimKey}}},
		Scheduler: SchedulerConfig{Spec: "@every 1s"},
		Worker:    WorkerConfig{Concurrency: 2, ShutdownTimeout: 3 * time.Second},
		SMTP:      SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "Nudge <noreply@nudge.example>", TLS: "none"},
		Mailgun:   MailgunConfig{SigningKey: emailKey},
		Log:       LogConfig{Level: "debug", Format: "json"},
	}.WithDefaults()
	logs := &lockedBuffer{}
	a := &app{stdout: os.Stdout, stderr: logs}
	rt, err := a.newRuntime(ctx, cfg, runtimeOptions{rdb: rdb,
		cadences: map[string][]cadenceSource{emailLender: {{name: "e2e-email.yaml", data: []byte(emailCadence)}}}})
	require.NoError(t, err)
	t.Cleanup(rt.Close)
	acct := nudge.Account{
		ID: "M-1", Lender: emailLender, Portfolio: "auto",
		Borrower: nudge.Borrower{Name: "Ana García", Language: "en", Timezone: zone},
		Contacts: []nudge.Contact{{Channel: nudge.Email, Address: emailBorrower, Consent: true}, {Channel: nudge.SMS, Address: "+18002000001", Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: today, Status: nudge.StatusActive,
	}
	require.NoError(t, rt.db.UpsertAccounts(ctx, []nudge.Account{acct}, time.Now().Add(-time.Second)))

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runRoles(runCtx, func(ctx context.Context) error { return rt.runAPI(ctx, ln) }, rt.runScheduler, rt.runWorker)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	deadline := time.Now().Add(e2eWait)
	for sink.Count() == 0 {
		require.True(t, time.Now().Before(deadline), "no email reached the sink; logs:\n%s", tail2(logs.String()))
		time.Sleep(100 * time.Millisecond)
	}

	got := sink.Messages()[0]
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	require.NoError(t, err)
	require.Equal(t, "reminders@acme.example", got.From, "the envelope is the lender's")
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	require.NoError(t, err)
	require.Equal(t, "reminders@acme.example", from.Address)
	replyTo, err := mail.ParseAddress(msg.Header.Get("Reply-To"))
	require.NoError(t, err)
	base2, tag, ok := smtp.ReplyTag(replyTo.Address)
	require.True(t, ok, "the Reply-To carries a tag: %s", replyTo.Address)
	require.Equal(t, "replies@reply.acme.example", base2)
	for _, leak := range []string{"m-1", "ana", "garcia", "example", "8002000001"} {
		require.NotContains(t, strings.ToLower(tag), leak, "the reply tag is opaque")
	}
	require.NotContains(t, string(got.Data), "Nudge-Reply-Tag")
	name, record, err := dkimKeys([]DKIMConfig{dkimKey})[0].Record()
	require.NoError(t, err)
	sigs := fakeDNS{name: record}.verify(t, got.Data)
	require.Len(t, sigs, 1)
	require.NoError(t, sigs[0].Err, "the reminder, with its unsubscribe link and tagged Reply-To, is signed with the lender's key")
	require.Equal(t, "acme.example", sigs[0].Domain)
	require.Contains(t, msg.Header.Get("List-Unsubscribe"), base, "the unsubscribe link starts with public_url")

	n := 0
	post := func(in mailgun.Inbound) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+webhooks.MailgunInboundPath, strings.NewReader(in.Values().Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode
	}
	reply := func(to, body string) mailgun.Inbound {
		n++
		return mailgun.Inbound{Recipient: to, Sender: emailBorrower, From: "Ana <" + emailBorrower + ">",
			Subject: "Re: " + msg.Header.Get("Subject"), BodyPlain: body, MessageID: fmt.Sprintf("<r%d@mail.example.com>", n),
		}.Signed(emailKey, time.Now(), fmt.Sprintf("%050d", n))
	}
	quoted := "\n\nOn Mon, Acme Auto Finance <" + replyTo.Address + "> wrote:\n> Reply STOP to opt out.\n"
	promiseDay := today.AddDays(3)

	// Forged and unmatched posts change nothing.
	forged := reply(replyTo.Address, "STOP")
	forged.Signature = mailgun.Sign("not the key", forged.Timestamp, forged.Token)
	require.Equal(t, http.StatusForbidden, post(forged))
	require.Equal(t, http.StatusNotAcceptable, post(reply("replies@reply.acme.example", "STOP")))
	require.Equal(t, http.StatusNotAcceptable, post(reply(smtp.ReplyAddress("replies@reply.acme.example", strings.Repeat("a", 26)), "STOP")))
	replies, err := rt.db.AccountReplies(ctx, emailLender, acct.ID)
	require.NoError(t, err)
	require.Empty(t, replies)
	opts, err := rt.db.ListOptOuts(ctx, emailLender)
	require.NoError(t, err)
	require.Empty(t, opts)

	// A promise, a question for a person, then STOP.
	require.Equal(t, http.StatusOK, post(reply(replyTo.Address,
		fmt.Sprintf("I will pay $100 on %s", promiseDay.In(time.UTC, 12, 0).Format("January 2"))+quoted)))
	promises, err := rt.db.ListPromises(ctx, emailLender, acct.ID)
	require.NoError(t, err)
	require.Len(t, promises, 1)
	require.Equal(t, promiseDay, promises[0].Due)
	require.Equal(t, "100.00", promises[0].Amount)
	require.Equal(t, nudge.Email, promises[0].Channel)

	require.Equal(t, http.StatusOK, post(reply(replyTo.Address, "Is this a scam? Who gave you my email?"+quoted)))
	review, err := rt.db.ListReplies(ctx, emailLender, true)
	require.NoError(t, err)
	require.Len(t, review, 1)
	require.Equal(t, nudge.Email, review[0].Channel)

	require.Equal(t, http.StatusOK, post(reply(replyTo.Address, "stop"+quoted)))
	opts, err = rt.db.ListOptOuts(ctx, emailLender)
	require.NoError(t, err)
	require.Len(t, opts, 1, "stop by email opts out of email only")
	require.Equal(t, nudge.Email, opts[0].Channel)
	require.Equal(t, emailBorrower, opts[0].Address)
	require.Equal(t, response.SourceEmailKeyword, opts[0].Source)
	require.NotContains(t, logs.String(), emailBorrower, "logs never hold a full email address")
}

// tail2 is the end of a log, for a failure message.
func tail2(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// TestEmailIdentitiesConfig checks the lenders' email settings, naming the
// field, and that a Mailgun route needs a reply address.
func TestEmailIdentitiesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "valid", cfg: Config{Lenders: []LenderConfig{{ID: "a", EmailFrom: "A <a@a.example>", EmailReplyTo: "r@a.example"}, {ID: "b"}}}},
		{name: "bad from and reply-to", cfg: Config{Lenders: []LenderConfig{{ID: "a"}, {ID: "b", EmailFrom: "billing", EmailReplyTo: "r@"}}},
			want: []string{"lenders[1].email_from", "lenders[1].email_reply_to"}},
		{name: "two addresses", cfg: Config{Lenders: []LenderConfig{{ID: "a", EmailReplyTo: "r@a.example, s@a.example"}}},
			want: []string{"lenders[0].email_reply_to"}},
		{name: "mailgun without a reply address", cfg: Config{Mailgun: MailgunConfig{SigningKey: "k"}, Lenders: []LenderConfig{{ID: "a", EmailFrom: "a@a.example"}}},
			want: []string{"mailgun.signing_key"}},
		{name: "mailgun with the global reply address", cfg: Config{Mailgun: MailgunConfig{SigningKey: "k"}, SMTP: SMTPConfig{ReplyTo: "r@nudge.example"}, Lenders: []LenderConfig{{ID: "a"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.cfg.emailIdentities()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
	c := Config{SMTP: SMTPConfig{ReplyTo: "Nudge <r@nudge.example>"}, Lenders: []LenderConfig{{ID: "a", EmailReplyTo: "Acme <Replies@a.example>"}, {ID: "b"}}}
	require.Equal(t, "Replies@a.example", c.replyAddress("a"))
	require.Equal(t, "r@nudge.example", c.replyAddress("b"))
}

// TestLoadConfigEmailSettings reads the settings from YAML and the signing
// key from a file.
func TestLoadConfigEmailSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "mailgun.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("key-from-file\n"), 0o600))
	path := filepath.Join(dir, "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`smtp:
  reply_to: replies@nudge.example
mailgun:
  signing_key_file: `+keyFile+`
lenders:
  - id: acme
    email_from: "Acme <reminders@acme.example>"
    email_reply_to: replies@reply.acme.example
`), 0o600))
	c, err := LoadConfig(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, "key-from-file", c.Mailgun.SigningKey)
	require.Equal(t, "replies@nudge.example", c.SMTP.ReplyTo)
	require.Equal(t, "Acme <reminders@acme.example>", c.Lenders[0].EmailFrom)
	require.Equal(t, "replies@reply.acme.example", c.replyAddress("acme"))
}
