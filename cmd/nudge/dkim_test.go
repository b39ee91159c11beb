package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/smtp"
	"github.com/nudgehq/nudge/channels/smtpsink"
)

// testRSAPEM is one 2048-bit RSA key in PKCS #8 PEM for the package's tests.
var testRSAPEM = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

func ed25519PEM(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// emailFixture copies testdata/email/name into a temporary directory, with
// KEYDIR naming a directory that holds acme.pem (RSA), beta.pem and
// shared.pem (Ed25519); it returns the copy's path and a DNS that
// publishes those keys for the domains and selectors of good.yaml.
func emailFixture(t *testing.T, name string) (path string, d fakeDNS) {
	t.Helper()
	dir := t.TempDir()
	keys := map[string]string{"acme.pem": testRSAPEM(), "beta.pem": ed25519PEM(t), "shared.pem": ed25519PEM(t)}
	for file, key := range keys {
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(key), 0o600))
	}
	data, err := os.ReadFile(filepath.Join("testdata", "email", name))
	require.NoError(t, err)
	path = filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, bytes.ReplaceAll(data, []byte("KEYDIR"), []byte(dir)), 0o600))
	d = fakeDNS{}
	for _, k := range []smtp.DKIMKey{
		{Domain: "acme.example", Selector: "acme2026", PrivateKey: keys["acme.pem"]},
		{Domain: "beta.example", Selector: "ed", PrivateKey: keys["beta.pem"]},
		{Domain: "nudge.example", Selector: "shared", PrivateKey: keys["shared.pem"]},
	} {
		n, v, err := k.Record()
		require.NoError(t, err)
		d[n] = v
	}
	return path, d
}

// fakeDNS answers DKIM key lookups from a map of TXT records.
type fakeDNS map[string]string

func (d fakeDNS) verify(t *testing.T, raw []byte) []*dkim.Verification {
	t.Helper()
	v, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if r, ok := d[name]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no TXT record at %s", name)
	}})
	require.NoError(t, err)
	return v
}

func noEnv(string) (string, bool) { return "", false }

// TestEmailConfigFixtures loads the good fixture and refuses each bad one
// with a message naming the file, the line and the setting.
func TestEmailConfigFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{file: "good.yaml"},
		{file: "bad-unknown-field.yaml", want: []string{"bad-unknown-field.yaml", "[5:7]", `unknown field "selecter"`}},
		{file: "bad-mismatch.yaml", want: []string{
			`bad-mismatch.yaml:9: lenders[1].dkim[0].domain: "acme.example" is neither the domain of the lender's From (beta.example, from lenders[1].email_from) nor a parent of it`}},
		{file: "bad-fields.yaml", want: []string{
			"bad-fields.yaml:4: smtp.dkim[0].selector: required",
			"bad-fields.yaml:5: smtp.dkim[0].private_key: not a PEM private key"}},
		{file: "bad-keyfile.yaml", want: []string{"bad-keyfile.yaml:8: lenders[0].dkim[0].private_key_file: open ", "no such file"}},
		{file: "bad-unused.yaml", want: []string{
			`bad-unused.yaml:7: smtp.dkim[1].domain: "acme-typo.example" is not the domain of any From address mail goes out from (acme.example)`}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			path, _ := emailFixture(t, tc.file)
			cfg, err := LoadConfig(path, noEnv)
			if err == nil {
				_, err = cfg.emailIdentities()
			}
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestServeRefusesBadDKIMKey: a role refuses to start on a key that does
// not match its lender's From, before it opens anything.
func TestServeRefusesBadDKIMKey(t *testing.T) {
	t.Parallel()
	path, _ := emailFixture(t, "bad-mismatch.yaml")
	_, _, err := runCLI(t, "--config", path, "serve")
	require.ErrorContains(t, err, "bad-mismatch.yaml:9: lenders[1].dkim[0].domain")
	require.NotContains(t, err.Error(), "Redis")
}

// TestDKIMSignsEachLendersMailThroughTheRuntime builds the runtime from
// good.yaml as `nudge serve` does and sends one email per lender through
// its email channel to an SMTP sink: each carries its lender's own From
// and a signature of its lender's key (gamma, without a From or key of its
// own, sends from smtp.from's address under its own name with the
// per-domain key) that go-msgauth verifies on the received bytes; a
// changed body fails.
func TestDKIMSignsEachLendersMailThroughTheRuntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sink, err := smtpsink.Start("127.0.0.1:0", smtpsink.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	path, d := emailFixture(t, "good.yaml")
	env := map[string]string{
		"NUDGE_SMTP_PORT": strconv.Itoa(sink.Port()), "NUDGE_SECRET": strings.Repeat("k", 32),
		"NUDGE_DATABASE": "sqlite://" + filepath.Join(t.TempDir(), "nudge.db"), "NUDGE_LOG_LEVEL": "error",
	}
	cfg, err := LoadConfig(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	a := &app{stdout: os.Stdout, stderr: &lockedBuffer{}}
	rt, err := a.newRuntime(ctx, cfg, runtimeOptions{rdb: rdb, cadences: map[string][]cadenceSource{}})
	require.NoError(t, err)
	t.Cleanup(rt.Close)

	tests := []struct {
		lender, from, name, domain string
	}{
		{lender: "acme", from: "reminders@acme.example", name: "Acme Auto Finance", domain: "acme.example"},
		{lender: "beta", from: "hello@mail.beta.example", name: "Beta Motors", domain: "beta.example"},
		{lender: "gamma", from: "noreply@nudge.example", name: "Gamma Cars", domain: "nudge.example"},
	}
	for i, tc := range tests {
		m := &nudge.Message{AttemptID: "att-" + tc.lender, Lender: tc.lender, Channel: nudge.Email, To: "ana@example.com",
			Subject: "Your payment is due", Text: "Hi Ana,\nyour payment of $412.50 is due today.\n"}
		_, err := rt.senders[nudge.Email].Send(ctx, m)
		require.NoError(t, err, tc.lender)
		got := sink.Messages()
		require.Len(t, got, i+1)
		raw := got[i].Data
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err)
		from, err := mail.ParseAddress(msg.Header.Get("From"))
		require.NoError(t, err)
		require.Equal(t, tc.from, from.Address, tc.lender)
		require.Equal(t, tc.name, from.Name, "%s: each lender's mail carries its own From", tc.lender)
		v := d.verify(t, raw)
		require.Len(t, v, 1, tc.lender)
		require.NoError(t, v[0].Err, "%s: the received bytes verify", tc.lender)
		require.Equal(t, tc.domain, v[0].Domain, tc.lender)

		tampered := bytes.Replace(raw, []byte("412.50"), []byte("41.25"), 1)
		require.NotEqual(t, raw, tampered)
		v = d.verify(t, tampered)
		require.Len(t, v, 1)
		require.Error(t, v[0].Err, "%s: a changed body fails verification", tc.lender)
	}
}

// TestDKIMCommand prints the DNS record of every configured key, in the
// form the verifier accepts.
func TestDKIMCommand(t *testing.T) {
	t.Parallel()
	path, d := emailFixture(t, "good.yaml")
	out, _, err := runCLI(t, "--config", path, "dkim")
	require.NoError(t, err)
	for name, value := range d {
		require.Contains(t, out, name+". IN TXT \""+value+"\"")
	}
	require.Contains(t, out, "; lenders[0].dkim[0] (lender acme)")
	require.Contains(t, out, "; smtp.dkim[0]")

	none := writeFile(t, "nudge.yaml", "smtp: {from: a@a.example}\n")
	_, _, err = runCLI(t, "--config", none, "dkim")
	require.ErrorContains(t, err, "no DKIM key is configured")
}
