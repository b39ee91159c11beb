package twilio_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels/twilio"
)

const (
	testSID     = "AC0123456789abcdef0123456789abcdef"
	testToken   = "tok3n0123456789"
	testService = "MG0123456789abcdef0123456789abcdef"
)

func validConfig() twilio.Config {
	return twilio.Config{AccountSID: testSID, AuthToken: testToken, From: "+14155550100", PublicURL: "https://nudge.example.com"}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*twilio.Config)
		wantErr string
	}{
		{name: "valid", mod: func(*twilio.Config) {}},
		{name: "valid with service and routes", mod: func(c *twilio.Config) {
			c.From = ""
			c.MessagingServiceSID = testService
			c.Senders = []twilio.SenderRoute{{Lender: "acme", Country: "mx", From: "+525512345678", MPS: 1}}
		}},
		{name: "bad account sid", mod: func(c *twilio.Config) { c.AccountSID = "AC123" }, wantErr: "twilio.account_sid must match ^AC[0-9a-fA-F]{32}$"},
		{name: "missing token", mod: func(c *twilio.Config) { c.AuthToken = "" }, wantErr: "twilio.auth_token (or auth_token_file) is required"},
		{name: "token with symbols", mod: func(c *twilio.Config) { c.AuthToken = "a+b" }, wantErr: "twilio.auth_token must be alphanumeric"},
		{name: "no sender", mod: func(c *twilio.Config) { c.From = "" }, wantErr: "need messaging_service_sid or from"},
		{name: "bad service sid", mod: func(c *twilio.Config) { c.MessagingServiceSID = "MGxyz" }, wantErr: "twilio.messaging_service_sid must match"},
		{name: "bad from", mod: func(c *twilio.Config) { c.From = "415-555-0100" }, wantErr: "twilio.from"},
		{name: "route without sender", mod: func(c *twilio.Config) { c.Senders = []twilio.SenderRoute{{Lender: "acme"}} }, wantErr: "twilio.senders[0]: need messaging_service_sid, from or pool"},
		{name: "route bad country", mod: func(c *twilio.Config) {
			c.Senders = []twilio.SenderRoute{{Country: "XX", From: "+14155550100"}}
		}, wantErr: "twilio.senders[0].country"},
		{name: "route negative mps", mod: func(c *twilio.Config) {
			c.Senders = []twilio.SenderRoute{{From: "+14155550100", MPS: -1}}
		}, wantErr: "twilio.senders[0].mps must not be negative"},
		{name: "missing public url", mod: func(c *twilio.Config) { c.PublicURL = "" }, wantErr: "twilio.public_url is required"},
		{name: "relative public url", mod: func(c *twilio.Config) { c.PublicURL = "nudge.example.com" }, wantErr: "twilio.public_url"},
		{name: "bad base url", mod: func(c *twilio.Config) { c.BaseURL = "ftp://sim" }, wantErr: "twilio.base_url"},
		{name: "negative timeout", mod: func(c *twilio.Config) { c.Timeout = -time.Second }, wantErr: "twilio.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.mod(&c)
			err := c.WithDefaults().Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.PublicURL = "https://nudge.example.com/"
	c.Senders = []twilio.SenderRoute{{Country: " mx ", From: "+525512345678"}}
	d := c.WithDefaults()
	require.Equal(t, twilio.DefaultTimeout, d.Timeout)
	require.Equal(t, "https://nudge.example.com", d.PublicURL)
	require.Equal(t, "MX", d.Senders[0].Country)
	require.Equal(t, " mx ", c.Senders[0].Country, "WithDefaults must not modify the receiver")
}

func TestNewReadsAuthTokenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(path, []byte(testToken+"\n"), 0o600))
	c := validConfig()
	c.AuthToken = ""
	c.AuthTokenFile = path
	s, err := twilio.New(c)
	require.NoError(t, err)
	require.Equal(t, "https://nudge.example.com/webhooks/twilio/sms/status", s.StatusCallbackURL())

	c.AuthTokenFile = filepath.Join(t.TempDir(), "missing")
	_, err = twilio.New(c)
	require.ErrorContains(t, err, "twilio.auth_token_file")
}
