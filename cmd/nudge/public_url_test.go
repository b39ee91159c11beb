package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckPublicURL refuses real providers (an SMTP host or a Twilio API
// that is not this machine) without an https public_url, naming
// public_url; sinks and simulators on this machine, and the local
// development escape hatch, start.
func TestCheckPublicURL(t *testing.T) {
	t.Parallel()
	realSMTP := SMTPConfig{Host: "smtp.example.com", From: "a@a.example"}
	realTwilio := TwilioConfig{AccountSID: "AC00000000000000000000000000000000"}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "no providers, default public_url", cfg: Config{}},
		{name: "demo and tests: sink and simulator on loopback", cfg: Config{
			SMTP: SMTPConfig{Host: "127.0.0.1"}, Twilio: TwilioConfig{AccountSID: "AC1", BaseURL: "http://127.0.0.1:41234"}}},
		{name: "local mailpit by name", cfg: Config{SMTP: SMTPConfig{Host: "localhost"}}},
		{name: "a name under .localhost", cfg: Config{SMTP: SMTPConfig{Host: "mail.localhost"}}},
		{name: "IPv6 loopback", cfg: Config{SMTP: SMTPConfig{Host: "[::1]"}, Twilio: TwilioConfig{AccountSID: "AC1", BaseURL: "http://[::1]:9000"}}},
		{name: "real SMTP with https", cfg: Config{SMTP: realSMTP, PublicURL: "https://reminders.acme.example"}},
		{name: "real Twilio with https", cfg: Config{Twilio: realTwilio, PublicURL: "https://reminders.acme.example/nudge"}},
		{name: "real SMTP, public_url unset", cfg: Config{SMTP: realSMTP},
			want: []string{"public_url is not set", "http://127.0.0.1:8080", `smtp.host "smtp.example.com"`, "NUDGE_PUBLIC_URL", "https"}},
		{name: "real Twilio, public_url unset", cfg: Config{Twilio: realTwilio},
			want: []string{"public_url is not set", "twilio.account_sid (Twilio itself"}},
		{name: "simulator on another host counts as real", cfg: Config{Twilio: TwilioConfig{AccountSID: "AC1", BaseURL: "http://twiliosim:8080"}},
			want: []string{"public_url", `twilio.base_url "http://twiliosim:8080"`}},
		{name: "real SMTP, http public_url", cfg: Config{SMTP: realSMTP, PublicURL: "http://reminders.acme.example"},
			want: []string{`public_url "http://reminders.acme.example" is not https`}},
		{name: "real SMTP, localhost without the escape hatch", cfg: Config{SMTP: realSMTP, PublicURL: "http://localhost:8080"},
			want: []string{`public_url "http://localhost:8080" is not https`, "allow_local_public_url: true"}},
		{name: "escape hatch: localhost", cfg: Config{SMTP: SMTPConfig{Host: "mailpit"}, Twilio: realTwilio, PublicURL: "http://localhost:8080", AllowLocalPublicURL: true}},
		{name: "escape hatch: 127.0.0.1", cfg: Config{SMTP: realSMTP, AllowLocalPublicURL: true}},
		{name: "escape hatch only on this machine", cfg: Config{SMTP: realSMTP, PublicURL: "http://10.0.0.5:8080", AllowLocalPublicURL: true},
			want: []string{`public_url "http://10.0.0.5:8080" is not https`, "allow_local_public_url accepts http only on this machine"}},
		{name: "not a URL", cfg: Config{SMTP: realSMTP, PublicURL: "reminders.acme.example"},
			want: []string{`public_url "reminders.acme.example" is not an http(s) address`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.WithDefaults().checkPublicURL()
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

// TestServeRefusesRealSMTPWithoutPublicURL starts `nudge serve` with a real
// SMTP host and no public_url: it stops before connecting to anything, with
// a message naming public_url; the environment's escape hatch lets a local
// public_url through to the next check.
func TestServeRefusesRealSMTPWithoutPublicURL(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "nudge.yaml", "database: sqlite://"+filepath.Join(t.TempDir(), "n.db")+
		"\nsmtp: {host: smtp.example.com, from: reminders@acme.example}\n")
	_, _, err := runCLI(t, "--config", cfg, "serve")
	require.ErrorContains(t, err, "public_url is not set")
	require.ErrorContains(t, err, `smtp.host "smtp.example.com"`)

	local := writeFile(t, "nudge.yaml", "database: sqlite://"+filepath.Join(t.TempDir(), "n.db")+
		"\npublic_url: http://localhost:8080\nallow_local_public_url: true\nsmtp: {host: smtp.example.com, from: reminders@acme.example}\n")
	_, _, err = runCLI(t, "--config", local, "serve")
	require.ErrorContains(t, err, "no Redis configured", "past the public_url check")

	c, err := LoadConfig("", func(k string) (string, bool) {
		v, ok := map[string]string{"NUDGE_ALLOW_LOCAL_PUBLIC_URL": "true"}[k]
		return v, ok
	})
	require.NoError(t, err)
	require.True(t, c.AllowLocalPublicURL)
	_, err = LoadConfig("", func(k string) (string, bool) { return "yes please", k == "NUDGE_ALLOW_LOCAL_PUBLIC_URL" })
	require.ErrorContains(t, err, "NUDGE_ALLOW_LOCAL_PUBLIC_URL")
}
