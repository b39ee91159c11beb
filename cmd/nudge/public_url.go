package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// realProviders names the configured providers that reach real people,
// each with the setting that makes it real:
//
//   - SMTP, when smtp.host is set and is not this machine (localhost, a
//     name under .localhost, or a loopback address such as 127.0.0.1 or
//     ::1, where the demo's and the tests' sinks and a local Mailpit run);
//   - Twilio, when twilio.account_sid is set and twilio.base_url is empty
//     (Twilio itself) or names a host that is not this machine (where the
//     embedded simulator, twiliosim, runs).
//
// A relay or simulator on another host counts as real: Nudge cannot tell it
// from a provider.
func (c Config) realProviders() []string {
	var real []string
	if h := strings.TrimSpace(c.SMTP.Host); h != "" && !isLocalHost(h) {
		real = append(real, fmt.Sprintf("smtp.host %q", h))
	}
	if c.Twilio.AccountSID != "" {
		switch base := strings.TrimSpace(c.Twilio.BaseURL); {
		case base == "":
			real = append(real, "twilio.account_sid (Twilio itself: twilio.base_url is not set)")
		case !isLocalURL(base):
			real = append(real, fmt.Sprintf("twilio.base_url %q", base))
		}
	}
	return real
}

// checkPublicURL refuses a configuration that sends through a real SMTP
// server or Twilio account (realProviders) while public_url, which every
// unsubscribe, self-service and callback link starts with, is not an https
// address: the links would point at a machine borrowers and Twilio cannot
// reach (by default http://{addr}, such as http://127.0.0.1:8080). With
// allow_local_public_url, an http public_url on this machine is accepted,
// for local development. The message names public_url.
func (c Config) checkPublicURL() error {
	real := c.realProviders()
	if len(real) == 0 {
		return nil
	}
	because := fmt.Sprintf("%s sends to real people, and the unsubscribe and self-service links in their messages (and Twilio's callbacks) start with public_url",
		strings.Join(real, " and "))
	fix := "set public_url (NUDGE_PUBLIC_URL) to the https address borrowers and Twilio reach this deployment at"
	u, err := url.Parse(strings.TrimSpace(c.PublicURL))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("public_url %q is not an http(s) address: %s; %s", c.PublicURL, because, fix)
	case u.Scheme == "https":
		return nil
	case c.AllowLocalPublicURL && isLocalHost(u.Hostname()):
		return nil
	case c.AllowLocalPublicURL:
		return fmt.Errorf("public_url %q is not https: %s; %s (allow_local_public_url accepts http only on this machine: localhost, 127.0.0.1, [::1])",
			c.PublicURL, because, fix)
	case c.PublicURL == "http://"+c.Addr:
		return fmt.Errorf("public_url is not set, so links would point at %s: %s; %s (for local development against real providers only: allow_local_public_url: true with an http://localhost public_url)",
			c.PublicURL, because, fix)
	}
	return fmt.Errorf("public_url %q is not https: %s; %s (for local development against real providers only: allow_local_public_url: true with an http://localhost public_url)",
		c.PublicURL, because, fix)
}

// isLocalHost reports whether host (a name or an address, brackets
// allowed) is this machine: localhost, a name under .localhost (RFC 6761),
// or a loopback address.
func isLocalHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(strings.TrimSpace(host), "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isLocalURL reports whether the host of the URL s is this machine.
func isLocalURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && isLocalHost(u.Hostname())
}
