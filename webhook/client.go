package webhook

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned for a request to a loopback, private,
// link-local or otherwise non-public address.
var ErrForbiddenAddress = errors.New("webhook: address is not public")

// secretBytes is the length of a signing secret's key.
const secretBytes = 32

// NewSecret returns a new signing secret: "whsec_" and 32 random bytes in
// base64, the form the Standard Webhooks libraries take.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// CheckURL checks an endpoint URL: absolute, https (http only with
// allowInsecure), a host, no user or password, no fragment.
func CheckURL(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "https" && (!allowInsecure || u.Scheme != "http"):
		return fmt.Errorf("%q: want an https URL", raw)
	case u.Hostname() == "":
		return fmt.Errorf("%q: no host", raw)
	case u.User != nil:
		return fmt.Errorf("%q: no user or password in the URL, please", raw)
	case u.Fragment != "":
		return fmt.Errorf("%q: no fragment, please", raw)
	case len(raw) > 2000:
		return errors.New("longer than 2000 characters")
	}
	if !allowInsecure {
		if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !public(ip) {
			return fmt.Errorf("%q: %w", raw, ErrForbiddenAddress)
		}
		if h := strings.ToLower(u.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return fmt.Errorf("%q: %w", raw, ErrForbiddenAddress)
		}
	}
	return nil
}

// public reports whether ip is an address on the public internet.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) && // carrier-grade NAT
		!netip.MustParsePrefix("fc00::/7").Contains(ip)
}

// NewClient returns the HTTP client deliveries use: cfg.Timeout per
// request, no redirects followed, no proxy, and (unless
// cfg.AllowPrivateAddresses) connections only to public addresses, checked
// on the address dialled, after name resolution. roots, when not nil,
// replaces the system's certificate roots (tests trust their own server).
func NewClient(cfg Config, roots *x509.CertPool) *http.Client {
	cfg = cfg.WithDefaults()
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivateAddresses {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%s: %w", address, ErrForbiddenAddress)
			}
			if !public(ap.Addr()) {
				return fmt.Errorf("%s: %w", address, ErrForbiddenAddress)
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Timeout:   cfg.Timeout,
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, never followed
		},
	}
}
