package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/webhook"
)

// TestCheckURL takes https URLs of public hosts and refuses the rest with
// a reason; http and private hosts pass only when allowed.
func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		insecure  bool
		err       string
	}{
		{name: "https", url: "https://crm.example.com/hooks/nudge"},
		{name: "http", url: "http://crm.example.com/hooks", err: "want an https URL"},
		{name: "http allowed", url: "http://127.0.0.1:8080/hooks", insecure: true},
		{name: "loopback", url: "https://127.0.0.1/hooks", err: "not public"},
		{name: "private", url: "https://10.1.2.3/hooks", err: "not public"},
		{name: "metadata", url: "https://169.254.169.254/latest", err: "not public"},
		{name: "ipv6 loopback", url: "https://[::1]/hooks", err: "not public"},
		{name: "localhost", url: "https://localhost/hooks", err: "not public"},
		{name: "user", url: "https://u:p@crm.example.com/", err: "no user or password"},
		{name: "no host", url: "https:///hooks", err: "no host"},
		{name: "relative", url: "/hooks", err: "want an https URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := webhook.CheckURL(tc.url, tc.insecure)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestClientRefusesPrivateAddressesAndRedirects dials no loopback address
// by default, and never follows a redirect.
func TestClientRefusesPrivateAddressesAndRedirects(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(target.Close)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(redirect.Close)

	post := func(c *http.Client, url string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, nil)
		require.NoError(t, err)
		return c.Do(req)
	}
	_, err := post(webhook.NewClient(webhook.Config{}, nil), target.URL)
	require.ErrorIs(t, err, webhook.ErrForbiddenAddress)

	resp, err := post(webhook.NewClient(webhook.Config{AllowPrivateAddresses: true}, nil), redirect.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusFound, resp.StatusCode, "the redirect is the answer")
}

// TestConfig fills defaults and names every bad setting.
func TestConfig(t *testing.T) {
	t.Parallel()
	c := webhook.Config{}.WithDefaults()
	require.NoError(t, c.Validate())
	require.Equal(t, 5*time.Second, c.Backoff(1))
	require.Equal(t, 10*time.Second, c.Backoff(2))
	require.Equal(t, 2*time.Hour, c.Backoff(30), "capped")
	bad := webhook.Config{BackoffInitial: time.Hour, BackoffMax: time.Minute, GiveUpAfter: -1, DisableAfterFailures: -2,
		DisableAfter: time.Hour, Timeout: time.Second, FanoutEvery: time.Second}
	err := bad.Validate()
	require.ErrorContains(t, err, "webhooks.backoff_initial 1h0m0s is more than webhooks.backoff_max 1m0s")
	require.ErrorContains(t, err, "webhooks.give_up_after is -1ns")
	require.ErrorContains(t, err, "webhooks.disable_after_failures is -2")
	_, err = webhook.NewService(webhook.Service{Config: bad})
	require.ErrorContains(t, err, "webhooks.give_up_after")
}
