package ops

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// Cookies of the operator dashboard.
const (
	// OpsSessionCookie holds the signed session of a logged-in key.
	OpsSessionCookie = "nudge_ops"
	// opsLoginCookie holds the login form's anti-forgery nonce.
	opsLoginCookie = "nudge_ops_login"
)

// DefaultOpsSessionTTL is how long a dashboard session lasts.
const DefaultOpsSessionTTL = 12 * time.Hour

// opsSession is what the session cookie says: which key logged in, until
// when, and the nonce its CSRF token is derived from. The role is not kept:
// it is read from the store on every request, so a revoked or demoted key
// loses access at once.
type opsSession struct {
	KeyID   string `json:"k"`
	Lender  string `json:"l"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

// opsSigner signs sessions and CSRF tokens with a key derived from the
// deployment secret, so they cannot be confused with borrowers' links.
type opsSigner struct{ key []byte }

func newOpsSigner(secret []byte) opsSigner {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("nudge ops session v1"))
	return opsSigner{key: m.Sum(nil)}
}

func (s opsSigner) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

// seal returns the cookie value of sess.
func (s opsSigner) seal(sess opsSession) string {
	payload, _ := json.Marshal(sess) // a struct of strings and an integer always marshals
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", body))
}

var errOpsSession = errors.New("ops session: invalid or expired")

// open verifies a cookie value at now and returns its session.
func (s opsSigner) open(value string, now time.Time) (opsSession, error) {
	body, sig, ok := strings.Cut(value, ".")
	if !ok {
		return opsSession{}, errOpsSession
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", body)) {
		return opsSession{}, errOpsSession
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return opsSession{}, errOpsSession
	}
	var sess opsSession
	if err := json.Unmarshal(payload, &sess); err != nil || sess.KeyID == "" || sess.Lender == "" || sess.Nonce == "" {
		return opsSession{}, errOpsSession
	}
	if !now.Before(time.Unix(sess.Expires, 0)) {
		return opsSession{}, errOpsSession
	}
	return sess, nil
}

// csrf returns the anti-forgery token of a nonce (a session's, or the login
// form's cookie).
func (s opsSigner) csrf(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", nonce))
}

// checkCSRF reports whether token is the CSRF token of nonce.
func (s opsSigner) checkCSRF(nonce, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && nonce != "" && hmac.Equal(got, s.mac("csrf", nonce))
}

func newOpsNonce() (string, error) { return web.RandomString(16) }

// opsPrincipal is the logged-in key of a request.
type opsPrincipal struct {
	Key     nudge.APIKey
	Session opsSession
	CSRF    string
	// Lender is the lender the request is about: the key's own, or the one
	// a platform key picked.
	Lender string
}

// cookie returns a dashboard cookie: HttpOnly, SameSite=Strict, scoped to
// /ops, and Secure when the public URL is https. It lasts until the browser
// closes; a session's own expiry is inside its signed value, so a cookie
// kept longer is refused anyway. An empty value deletes the cookie.
func (o *Ops) cookie(name, value string) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: web.OpsPath, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: o.secure,
	}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}
