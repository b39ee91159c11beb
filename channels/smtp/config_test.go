package smtp_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/smtp"
)

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     smtp.Config
		port   int
		tls    string
		domain string
	}{
		{name: "starttls by default", in: smtp.Config{Host: "mail.example", From: "a@acme.example"}, port: 587, tls: smtp.TLSStartTLS, domain: "acme.example"},
		{name: "implicit tls", in: smtp.Config{Host: "mail.example", From: "A <a@Acme.Example>", TLS: "TLS"}, port: 465, tls: smtp.TLSImplicit, domain: "acme.example"},
		{name: "plain", in: smtp.Config{Host: "mail.example", From: "a@acme.example", TLS: "none"}, port: 25, tls: smtp.TLSNone, domain: "acme.example"},
		{name: "explicit port and domain", in: smtp.Config{Host: "mail.example", Port: 2525, From: "a@acme.example", Domain: "mx.acme.example"}, port: 2525, tls: smtp.TLSStartTLS, domain: "mx.acme.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.in.WithDefaults()
			require.Equal(t, tt.port, c.Port)
			require.Equal(t, tt.tls, c.TLS)
			require.Equal(t, tt.domain, c.Domain)
			require.Equal(t, smtp.DefaultTimeout, c.Timeout)
			require.Equal(t, smtp.DefaultMPS, c.MPS)
			require.NoError(t, c.Validate())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := smtp.Config{Host: "mail.example", From: "reminders@acme.example", Username: "u", Password: "p"}
	tests := []struct {
		name   string
		mutate func(c *smtp.Config)
		want   string
	}{
		{name: "host required", mutate: func(c *smtp.Config) { c.Host = "" }, want: "smtp.host is required"},
		{name: "host with port", mutate: func(c *smtp.Config) { c.Host = "mail.example:25" }, want: "smtp.host"},
		{name: "port range", mutate: func(c *smtp.Config) { c.Port = 70000 }, want: "smtp.port must be between 1 and 65535"},
		{name: "tls mode", mutate: func(c *smtp.Config) { c.TLS = "ssl" }, want: `smtp.tls must be "starttls", "tls" or "none"`},
		{name: "from required", mutate: func(c *smtp.Config) { c.From = "" }, want: "smtp.from is required"},
		{name: "from invalid", mutate: func(c *smtp.Config) { c.From = "reminders" }, want: "smtp.from"},
		{name: "password without username", mutate: func(c *smtp.Config) { c.Username = "" }, want: "smtp.username is required"},
		{name: "username without password", mutate: func(c *smtp.Config) { c.Password = "" }, want: "smtp.password (or password_file) is required"},
		{name: "negative timeout", mutate: func(c *smtp.Config) { c.Timeout = -time.Second }, want: "smtp.timeout"},
		{name: "negative mps", mutate: func(c *smtp.Config) { c.MPS = -1 }, want: "smtp.mps"},
		{name: "bad domain", mutate: func(c *smtp.Config) { c.Domain = "a b" }, want: "smtp.domain"},
		{name: "reply-to invalid", mutate: func(c *smtp.Config) { c.ReplyTo = "replies" }, want: "smtp.reply_to"},
		{name: "reply-to list", mutate: func(c *smtp.Config) { c.ReplyTo = "a@acme.example, b@acme.example" }, want: "smtp.reply_to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.mutate(&c)
			err := c.WithDefaults().Validate()
			require.ErrorContains(t, err, tt.want)
			_, err = smtp.New(c)
			require.ErrorContains(t, err, tt.want)
		})
	}
	require.NoError(t, good.WithDefaults().Validate())
}

func TestNewReportsMissingPasswordFile(t *testing.T) {
	t.Parallel()
	_, err := smtp.New(smtp.Config{Host: "mail.example", From: "a@acme.example", Username: "u",
		PasswordFile: filepath.Join(t.TempDir(), "missing")})
	require.ErrorContains(t, err, "smtp.password_file")
}
