package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/mailgun"
	"github.com/nudgehq/nudge/channels/smtpsink"
	"github.com/nudgehq/nudge/channels/twiliosim"
	"github.com/nudgehq/nudge/web/webhooks"
)

// demoReplyText is what the demo's borrower writes back to the first email.
const demoReplyText = "Please stop emailing me, I will call you."

// demoEmailReply plays a borrower who answers the first email the sink
// receives: a reply to its Reply-To, quoting the reminder, posted to the
// inbound route as a Mailgun route would post it (signed with key). It
// returns when it has answered or ctx is done.
func demoEmailReply(ctx context.Context, sink *smtpsink.Sink, publicURL, key string, clock nudge.Clock) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, m := range sink.Messages() {
			msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
			if err != nil || msg.Header.Get("Reply-To") == "" || len(m.To) == 0 {
				continue
			}
			replyTo, err := mail.ParseAddress(msg.Header.Get("Reply-To"))
			if err != nil {
				continue
			}
			var nonce [25]byte
			_, _ = rand.Read(nonce[:])
			in := mailgun.Inbound{
				Recipient: replyTo.Address, Sender: m.To[0], From: m.To[0], Subject: "Re: " + msg.Header.Get("Subject"),
				BodyPlain: demoReplyText + "\n\nOn " + clock.Now().Format("Mon, Jan 2, 2006") + ", " + replyTo.Address + " wrote:\n> " +
					msg.Header.Get("Subject") + "\n",
				MessageID: "<demo-reply-" + hex.EncodeToString(nonce[:8]) + "@borrower.example>",
			}.Signed(key, clock.Now(), hex.EncodeToString(nonce[:]))
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+webhooks.MailgunInboundPath, strings.NewReader(in.Values().Encode()))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
			}
			return
		}
	}
}

// demoCNMailDomain is the domain the demo's Chinese lender sends from, with
// a DKIM key of its own; the other lender sends from smtp.from's domain,
// demo.example, signed with the per-domain key.
const demoCNMailDomain = "huaxia.demo.example"

// demoDKIMZone is the file of --export holding the DNS records of the
// demo's DKIM keys, with which the exported .eml files verify.
const demoDKIMZone = "dkim.zone"

// demoDKIM makes the demo's DKIM keys, Ed25519 keys of this run only: the
// per-domain key of demo.example and the Chinese lender's own.
func demoDKIM() (shared, cn DKIMConfig, err error) {
	key := func(domain string) (DKIMConfig, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return DKIMConfig{}, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return DKIMConfig{}, err
		}
		return DKIMConfig{Domain: domain, Selector: "demo", PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}, nil
	}
	if shared, err = key("demo.example"); err != nil {
		return shared, cn, err
	}
	cn, err = key(demoCNMailDomain)
	return shared, cn, err
}

// writeDemoDKIMRecords writes the DNS records of cfg's DKIM keys to path.
func writeDemoDKIMRecords(cfg Config, path string) error {
	var b bytes.Buffer
	b.WriteString("; The demo's DKIM keys, made for this run: the records that would publish them.\n")
	if _, err := writeDKIMRecords(&b, cfg); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// smsSegments is the average number of segments of the SMS Nudge sent, as
// the simulated Twilio counted them; zero when none was sent.
func smsSegments(msgs []twiliosim.Message) float64 {
	n, sum := 0, 0
	for _, m := range msgs {
		if m.Direction == "outbound-api" {
			n++
			sum += m.NumSegments
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}
