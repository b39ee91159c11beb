//go:debug rsa1024min=0

package smtp_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
)

// testRSAKey is one 2048-bit key for the package's tests (generating one
// takes a while); PKCS #1 PEM.
var testRSAKey = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
})

// newEd25519Key returns a fresh Ed25519 key in PKCS #8 PEM.
func newEd25519Key(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// dns publishes keys the way a lender's DNS would, for dkim.VerifyWithOptions.
type dns map[string]string

func publish(t *testing.T, keys ...smtp.DKIMKey) dns {
	t.Helper()
	d := dns{}
	for _, k := range keys {
		name, value, err := k.Record()
		require.NoError(t, err)
		d[name] = value
	}
	return d
}

func (d dns) lookup(name string) ([]string, error) {
	if v, ok := d[name]; ok {
		return []string{v}, nil
	}
	return nil, fmt.Errorf("no TXT record at %s", name)
}

// verify checks every DKIM signature of raw against d and returns them.
func (d dns) verify(t *testing.T, raw []byte) []*dkim.Verification {
	t.Helper()
	v, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: d.lookup})
	require.NoError(t, err)
	return v
}

// TestSendDKIMSignsEachLendersMail sends mail of three lenders through a
// real SMTP conversation to the sink and verifies, with go-msgauth's
// verifier, the bytes the sink received: acme's mail carries its own From
// and is signed with its own RSA key; beta's (From in a subdomain) with the
// Ed25519 key of its parent domain; a lender without its own From or key
// with the per-domain key of smtp.from's domain. A body or header changed
// after sending, or a second From added, fails verification.
func TestSendDKIMSignsEachLendersMail(t *testing.T) {
	t.Parallel()
	acmeOwn := smtp.DKIMKey{Domain: "acme.example", Selector: "acme2026", PrivateKey: testRSAKey()}
	betaKey := smtp.DKIMKey{Domain: "beta.example", Selector: "ed", PrivateKey: newEd25519Key(t)}
	acmeShared := smtp.DKIMKey{Domain: "Acme.Example.", Selector: "shared", PrivateKey: newEd25519Key(t)}
	d := publish(t, acmeOwn, betaKey, acmeShared)
	b := setup(t, smtpsink.Options{}, func(c *smtp.Config) { c.DKIM = []smtp.DKIMKey{betaKey, acmeShared} },
		smtp.WithLenders(map[string]smtp.Identity{
			"acme": {From: "Acme Auto Finance <reminders@acme.example>", DKIM: []smtp.DKIMKey{acmeOwn}},
			"beta": {From: "Beta Motors <hello@mail.beta.example>"},
		}))
	tests := []struct {
		name, lender, from, domain, selector string
	}{
		{name: "lender key", lender: "acme", from: "reminders@acme.example", domain: "acme.example", selector: "acme2026"},
		{name: "parent domain key", lender: "beta", from: "hello@mail.beta.example", domain: "beta.example", selector: "ed"},
		{name: "smtp.from's domain key", lender: "other", from: "reminders@acme.example", domain: "acme.example", selector: "shared"},
	}
	for i, tc := range tests {
		m := render(t, "en")
		m.Lender, m.AttemptID = tc.lender, "att-dkim-"+tc.lender
		res, err := b.sender.Send(context.Background(), m)
		require.NoError(t, err, tc.name)
		got := b.sink.Messages()
		require.Len(t, got, i+1)
		raw := got[i].Data
		require.Equal(t, tc.from, got[i].From, "%s: the envelope sender", tc.name)
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err)
		from, err := netmail.ParseAddress(msg.Header.Get("From"))
		require.NoError(t, err)
		require.Equal(t, tc.from, from.Address, tc.name)
		require.Len(t, msg.Header["Dkim-Signature"], 1, tc.name)
		require.Contains(t, msg.Header.Get("Dkim-Signature"), "s="+tc.selector+";", tc.name)

		v := d.verify(t, raw)
		require.Len(t, v, 1, tc.name)
		require.NoError(t, v[0].Err, "%s: the signature of the received bytes verifies", tc.name)
		require.Equal(t, tc.domain, v[0].Domain, tc.name)
		signed := strings.ToLower(strings.Join(v[0].HeaderKeys, ":"))
		for _, h := range []string{"from", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
			require.Contains(t, signed, h, "%s: %s is signed", tc.name, h)
		}
		require.Equal(t, res.ProviderID, msg.Header.Get("Message-Id"), "the signed Message-ID is the attempt's")

		for _, tamper := range []struct {
			name string
			edit func([]byte) []byte
		}{
			{name: "body", edit: func(r []byte) []byte {
				head := bytes.Index(r, []byte("\r\n\r\n"))
				require.Greater(t, bytes.Index(r, []byte("friendly reminder")), head, "the edit is in the body")
				return bytes.Replace(r, []byte("friendly reminder"), []byte("final demand"), 1)
			}},
			{name: "subject", edit: func(r []byte) []byte {
				return bytes.Replace(r, []byte("\r\nSubject: "), []byte("\r\nSubject: URGENT "), 1)
			}},
			{name: "second from", edit: func(r []byte) []byte {
				return append([]byte("From: Mallory <pay@mallory.example>\r\n"), r...)
			}},
		} {
			changed := tamper.edit(bytes.Clone(raw))
			require.NotEqual(t, raw, changed, "%s: the %s edit applies", tc.name, tamper.name)
			v := d.verify(t, changed)
			require.Len(t, v, 1)
			require.Error(t, v[0].Err, "%s: a changed %s fails verification", tc.name, tamper.name)
		}
	}
}

// TestSendDKIMSignsWhatIsTransmitted sends a text whose lines need the
// SMTP conversation's care (a line starting with a dot, bare LF endings,
// trailing spaces) and resends the same attempt: both received copies carry
// the attempt's Message-ID and verify.
func TestSendDKIMSignsWhatIsTransmitted(t *testing.T) {
	t.Parallel()
	key := smtp.DKIMKey{Domain: "acme.example", Selector: "s1", PrivateKey: newEd25519Key(t)}
	d := publish(t, key)
	b := setup(t, smtpsink.Options{}, func(c *smtp.Config) { c.DKIM = []smtp.DKIMKey{key} })
	m := plainMessage("ana@example.com")
	m.AttemptID = "att-dots"
	m.Text = "Line one\n.starts with a dot\n..two dots   \nlast line without a newline"
	for range 2 {
		_, err := b.sender.Send(context.Background(), m)
		require.NoError(t, err)
	}
	got := b.sink.Messages()
	require.Len(t, got, 2)
	require.Equal(t, map[string]int{smtp.MessageID("acme.example", "att-dots"): 2}, b.sink.MessageIDs())
	for _, r := range got {
		require.Contains(t, string(r.Data), "\r\n..two dots", "the dot-stuffing was undone by the server")
		v := d.verify(t, r.Data)
		require.Len(t, v, 1)
		require.NoError(t, v[0].Err)
	}
}

// TestSendDKIMDualSignatures signs with every key of the closest domain:
// an RSA and an Ed25519 key of one domain each add a signature that verifies.
func TestSendDKIMDualSignatures(t *testing.T) {
	t.Parallel()
	rsaKey := smtp.DKIMKey{Domain: "acme.example", Selector: "rsa", PrivateKey: testRSAKey()}
	edKey := smtp.DKIMKey{Domain: "acme.example", Selector: "ed", PrivateKey: newEd25519Key(t)}
	d := publish(t, rsaKey, edKey)
	b := setup(t, smtpsink.Options{}, func(c *smtp.Config) { c.DKIM = []smtp.DKIMKey{rsaKey, edKey} })
	_, err := b.sender.Send(context.Background(), render(t, "es"))
	require.NoError(t, err)
	v := d.verify(t, b.sink.Messages()[0].Data)
	require.Len(t, v, 2)
	for _, s := range v {
		require.NoError(t, s.Err)
		require.Equal(t, "acme.example", s.Domain)
	}
}

// TestSendWithoutCoveringKeyIsUnsigned: mail whose From no key covers goes
// out without a signature.
func TestSendWithoutCoveringKeyIsUnsigned(t *testing.T) {
	t.Parallel()
	key := smtp.DKIMKey{Domain: "acme.example", Selector: "s1", PrivateKey: newEd25519Key(t)}
	b := setup(t, smtpsink.Options{}, func(c *smtp.Config) { c.DKIM = []smtp.DKIMKey{key} },
		smtp.WithLenders(map[string]smtp.Identity{"gamma": {From: "Gamma <hi@gamma.example>"}}))
	m := render(t, "en")
	m.Lender = "gamma"
	_, err := b.sender.Send(context.Background(), m)
	require.NoError(t, err)
	require.NotContains(t, string(b.sink.Messages()[0].Data), "DKIM-Signature")
}

// TestDKIMKeyValidation refuses bad keys at New, naming the setting.
func TestDKIMKeyValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ed := newEd25519Key(t)
	small, err := rsa.GenerateKey(rand.Reader, 512) //nolint:gosec // a key too small on purpose
	require.NoError(t, err)
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}))
	keyFile := filepath.Join(dir, "dkim.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(ed), 0o600))
	emptyFile := filepath.Join(dir, "empty.pem")
	require.NoError(t, os.WriteFile(emptyFile, nil, 0o600))
	tests := []struct {
		name    string
		domain  []smtp.DKIMKey
		lenders map[string]smtp.Identity
		want    []string
	}{
		{name: "good, key from a file", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s1", PrivateKeyFile: keyFile}}},
		{name: "good lender key for a parent domain", lenders: map[string]smtp.Identity{
			"a": {From: "x@mail.a.example", DKIM: []smtp.DKIMKey{{Domain: "a.example", Selector: "s", PrivateKey: ed}}}}},
		{name: "missing fields", domain: []smtp.DKIMKey{{}},
			want: []string{"smtp.dkim[0].domain: required", "smtp.dkim[0].selector: required", "smtp.dkim[0].private_key: required"}},
		{name: "bad names", domain: []smtp.DKIMKey{{Domain: "acme example", Selector: "-s", PrivateKey: ed}},
			want: []string{`smtp.dkim[0].domain: "acme example" is not a domain name`, `smtp.dkim[0].selector: "-s" is not a selector`}},
		{name: "top-level domain", domain: []smtp.DKIMKey{{Domain: "example", Selector: "s", PrivateKey: ed}},
			want: []string{"smtp.dkim[0].domain", "top-level domain"}},
		{name: "not PEM", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKey: "MIIEv..."}},
			want: []string{"smtp.dkim[0].private_key: not a PEM private key"}},
		{name: "a public key", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKey: pub}},
			want: []string{`smtp.dkim[0].private_key: PEM block "PUBLIC KEY"`}},
		{name: "small RSA", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKey: smallPEM}},
			want: []string{"smtp.dkim[0].private_key: the RSA key has 512 bits"}},
		{name: "missing file", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKeyFile: filepath.Join(dir, "nope.pem")}},
			want: []string{"smtp.dkim[0].private_key_file", "no such file"}},
		{name: "empty file", domain: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKeyFile: emptyFile}},
			want: []string{"smtp.dkim[0].private_key_file: " + emptyFile + " is empty"}},
		{name: "domain key signs nothing", domain: []smtp.DKIMKey{{Domain: "acme.example.com", Selector: "s", PrivateKey: ed}},
			want: []string{`smtp.dkim[0].domain: "acme.example.com" is not the domain of any From`, "acme.example"}},
		{name: "lender key for another domain", lenders: map[string]smtp.Identity{
			"b": {From: "Beta <hi@beta.example>", DKIM: []smtp.DKIMKey{{Domain: "acme.example", Selector: "s", PrivateKey: ed}}}},
			want: []string{`lender b.dkim[0].domain: "acme.example" is neither the domain of the lender's From (beta.example, from lender b.email_from)`}},
		{name: "lender key for a subdomain of its From", lenders: map[string]smtp.Identity{
			"c": {DKIM: []smtp.DKIMKey{{Domain: "mail.acme.example", Selector: "s", PrivateKey: ed}}}},
			want: []string{`lender c.dkim[0].domain: "mail.acme.example" is neither the domain of the lender's From (acme.example, from smtp.from)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := smtp.New(smtp.Config{Host: "127.0.0.1", From: testFrom, TLS: smtp.TLSNone, DKIM: tc.domain},
				smtp.WithLenders(tc.lenders))
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var fe *smtp.FieldError
			require.True(t, errors.As(err, &fe), "the error names a setting: %v", err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestDKIMKeyRecord publishes the public half of RSA and Ed25519 keys in
// the forms receivers parse.
func TestDKIMKeyRecord(t *testing.T) {
	t.Parallel()
	name, value, err := smtp.DKIMKey{Domain: "Acme.Example", Selector: "s1", PrivateKey: testRSAKey()}.Record()
	require.NoError(t, err)
	require.Equal(t, "s1._domainkey.acme.example", name)
	require.True(t, strings.HasPrefix(value, "v=DKIM1; k=rsa; p=MII"), value)
	_, value, err = smtp.DKIMKey{Domain: "acme.example", Selector: "s2", PrivateKey: newEd25519Key(t)}.Record()
	require.NoError(t, err)
	require.Regexp(t, `^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$`, value)
	_, _, err = smtp.DKIMKey{Domain: "acme.example", Selector: "s3"}.Record()
	require.ErrorContains(t, err, "private_key")
}
