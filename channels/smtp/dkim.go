package smtp

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// MinDKIMRSABits is the smallest RSA key a DKIM key may have (RFC 8301
// §3.2: signers must use at least 1024 bits; 2048 is what to generate).
const MinDKIMRSABits = 1024

// DKIMKey is one DKIM signing key (RFC 6376): the signing domain (the
// signature's d=), the selector (s=) under which its public key is
// published in DNS, as a TXT record at {selector}._domainkey.{domain}, and
// the private key. A key signs mail whose From address is in Domain or
// below it (a key for acme.example signs mail from reminders@acme.example
// and from reminders@mail.acme.example).
type DKIMKey struct {
	// Domain is the signing domain ("acme.example"). It needs a dot: a key
	// for a top-level domain would claim everyone's mail.
	Domain string `yaml:"domain" json:"domain"`
	// Selector names the key within the domain ("nudge2026"); rotating a
	// key means publishing a new selector.
	Selector string `yaml:"selector" json:"selector"`
	// PrivateKey is the PEM-encoded private key: RSA (PKCS #1 "RSA PRIVATE
	// KEY" or PKCS #8 "PRIVATE KEY", at least MinDKIMRSABits bits) or
	// Ed25519 (PKCS #8 "PRIVATE KEY", RFC 8463).
	PrivateKey string `yaml:"private_key" json:"-"`
	// PrivateKeyFile names a file holding PrivateKey; it is read when
	// PrivateKey is empty.
	PrivateKeyFile string `yaml:"private_key_file" json:"private_key_file"`
}

// FieldError is a problem with one configuration setting, named by its path
// ("smtp.dkim[0].selector", "lenders[1].email_from").
type FieldError struct {
	// Field is the setting's path.
	Field string
	// Err says what is wrong with it.
	Err error
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// dkimSigner is a parsed DKIMKey.
type dkimSigner struct {
	// field is the key's setting path, for errors ("smtp.dkim[0]").
	field            string
	domain, selector string
	key              crypto.Signer
}

// load reads PrivateKeyFile into PrivateKey when PrivateKey is empty.
func (k *DKIMKey) load(field string) error {
	if k.PrivateKey != "" || k.PrivateKeyFile == "" {
		return nil
	}
	b, err := os.ReadFile(k.PrivateKeyFile)
	if err != nil {
		return &FieldError{Field: field + ".private_key_file", Err: err}
	}
	k.PrivateKey = string(b)
	return nil
}

// Validate reports every problem in k, each a *FieldError named after
// field ("smtp.dkim[0]" gives "smtp.dkim[0].selector: …"). The private key
// must be in PrivateKey (read PrivateKeyFile first; New does).
func (k DKIMKey) Validate(field string) error {
	_, err := k.parse(field)
	return err
}

// parse checks k and returns its signer.
func (k DKIMKey) parse(field string) (dkimSigner, error) {
	var errs []error
	s := dkimSigner{field: field, domain: normalizeDomain(k.Domain), selector: strings.TrimSpace(k.Selector)}
	switch {
	case s.domain == "":
		errs = append(errs, fieldErr(field+".domain", "required: the signing domain (d=), the From domain of the mail it signs or a parent of it"))
	case !isDomainName(s.domain):
		errs = append(errs, fieldErr(field+".domain", "%q is not a domain name", k.Domain))
	case !strings.Contains(s.domain, "."):
		errs = append(errs, fieldErr(field+".domain", "%q is a top-level domain: sign with the lender's own domain", k.Domain))
	}
	switch {
	case s.selector == "":
		errs = append(errs, fieldErr(field+".selector", "required: the name the public key is published under ({selector}._domainkey.{domain})"))
	case !isDomainName(strings.ToLower(s.selector)):
		errs = append(errs, fieldErr(field+".selector", "%q is not a selector: dot-separated labels of letters, digits and hyphens", k.Selector))
	}
	keyField := field + ".private_key"
	if k.PrivateKeyFile != "" {
		keyField = field + ".private_key_file"
	}
	if strings.TrimSpace(k.PrivateKey) == "" {
		if k.PrivateKeyFile != "" {
			errs = append(errs, fieldErr(keyField, "%s is empty", k.PrivateKeyFile))
		} else {
			errs = append(errs, fieldErr(field+".private_key", "required (or private_key_file): the PEM private key, RSA or Ed25519"))
		}
	} else {
		key, err := parsePrivateKey([]byte(k.PrivateKey))
		if err != nil {
			errs = append(errs, &FieldError{Field: keyField, Err: err})
		}
		s.key = key
	}
	if err := errors.Join(errs...); err != nil {
		return dkimSigner{}, err
	}
	return s, nil
}

// Record returns the DNS TXT record that publishes k's public key: its name
// ("nudge2026._domainkey.acme.example") and its value ("v=DKIM1; k=rsa;
// p=…", or k=ed25519 with the raw 32-byte key, RFC 8463). Receivers look it
// up to verify the signatures. The private key must have been read.
func (k DKIMKey) Record() (name, value string, err error) {
	s, err := k.parse("dkim")
	if err != nil {
		return "", "", err
	}
	name = s.selector + "._domainkey." + s.domain
	switch pub := s.key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", err
		}
		return name, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return name, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	}
	return "", "", fmt.Errorf("dkim: unsupported key %T", s.key.Public())
}

// parsePrivateKey reads an RSA or Ed25519 private key from PEM.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM private key (want -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)")
	}
	if x509.IsEncryptedPEMBlock(block) || block.Type == "ENCRYPTED PRIVATE KEY" { //nolint:staticcheck // detecting, not decrypting, legacy encrypted PEM
		return nil, errors.New("the private key is encrypted: give it unencrypted, from a file only Nudge can read")
	}
	var (
		parsed any
		err    error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key DKIM can sign with (want PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("the private key does not parse: %w", err)
	}
	switch key := parsed.(type) {
	case *rsa.PrivateKey:
		if n := key.N.BitLen(); n < MinDKIMRSABits {
			return nil, fmt.Errorf("the RSA key has %d bits: DKIM needs at least %d (generate 2048)", n, MinDKIMRSABits)
		}
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("the RSA key is not valid: %w", err)
		}
		return key, nil
	case ed25519.PrivateKey:
		return key, nil
	default:
		return nil, fmt.Errorf("a %T: DKIM signs with RSA or Ed25519 keys", parsed)
	}
}

// normalizeDomain lower-cases d and drops surrounding space and a final dot.
func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// isDomainName reports whether d (lower case) is dot-separated labels of
// letters, digits and inner hyphens, each at most 63 bytes.
func isDomainName(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// covers reports whether a key for signing domain may sign mail from an
// address in domain: the same domain or one below it.
func covers(signing, domain string) bool {
	return domain == signing || strings.HasSuffix(domain, "."+signing)
}

// domainOf returns the lower-cased domain of an address.
func domainOf(address string) string {
	at := strings.LastIndex(address, "@")
	if at < 0 {
		return ""
	}
	return normalizeDomain(address[at+1:])
}

// keyring holds the DKIM keys of a sender: per domain (Config.DKIM) and per
// lender (Identity.DKIM).
type keyring struct {
	domain []dkimSigner
	lender map[string][]dkimSigner
}

// signers returns the keys that sign a message of lender from an address
// in domain: the lender's own keys that cover the domain, else the
// per-domain keys of the closest domain that covers it (all of them: an
// RSA and an Ed25519 key of one domain both sign). None means the message
// goes out unsigned.
func (k *keyring) signers(lender, domain string) []dkimSigner {
	var out []dkimSigner
	for _, s := range k.lender[lender] {
		if covers(s.domain, domain) {
			out = append(out, s)
		}
	}
	if len(out) > 0 {
		return out
	}
	best := ""
	for _, s := range k.domain {
		if covers(s.domain, domain) && len(s.domain) > len(best) {
			best = s.domain
		}
	}
	for _, s := range k.domain {
		if s.domain == best {
			out = append(out, s)
		}
	}
	return out
}

// dkimHeaders are the header fields every signature covers once more than
// they occur (RFC 6376 §8.15, "oversigning"): a relay or an attacker can
// then neither add a second From, Subject or List-Unsubscribe nor add one
// that was absent, without breaking the signature. RFC 8058 §4 requires
// the one-click unsubscribe headers to be signed.
var dkimHeaders = []string{
	"From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// signDKIM returns raw (a whole message, CRLF line endings) with one
// DKIM-Signature header field per signer prepended. Each signature uses
// relaxed/relaxed canonicalization and covers every header field of raw
// plus the dkimHeaders once more.
func signDKIM(raw []byte, signers []dkimSigner) ([]byte, error) {
	keys := headerNames(raw)
	keys = append(keys, dkimHeaders...)
	var sigs bytes.Buffer
	for _, s := range signers {
		signer, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: s.domain, Selector: s.selector, Signer: s.key, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: keys,
		})
		if err != nil {
			return nil, fmt.Errorf("DKIM key %s (%s._domainkey.%s): %w", s.field, s.selector, s.domain, err)
		}
		if _, err := signer.Write(raw); err != nil {
			_ = signer.Close()
			return nil, fmt.Errorf("DKIM key %s (%s._domainkey.%s): %w", s.field, s.selector, s.domain, err)
		}
		if err := signer.Close(); err != nil {
			return nil, fmt.Errorf("DKIM key %s (%s._domainkey.%s): %w", s.field, s.selector, s.domain, err)
		}
		sigs.WriteString(signer.Signature())
	}
	return append(sigs.Bytes(), raw...), nil
}

// headerNames returns the name of every header field of raw, in order and
// with repeats.
func headerNames(raw []byte) []string {
	head := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head = raw[:i]
	}
	var names []string
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue // a folded continuation
		}
		if name, _, ok := bytes.Cut(line, []byte(":")); ok {
			names = append(names, string(bytes.TrimSpace(name)))
		}
	}
	return names
}

// toCRLF returns b with every bare LF made CRLF, as the SMTP DATA writer
// would send it, so that what is signed is what is transmitted; it ends
// with CRLF.
func toCRLF(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/32+2)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out
}
