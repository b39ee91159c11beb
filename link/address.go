package link

import (
	"encoding/base32"
	"strings"
)

// AddressTagLength is the length of a token's address form.
const AddressTagLength = 26

// tagEnc spells a token's bytes in lower-case base32 without padding: the
// address form survives mail systems that fold the case of local parts.
var tagEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// AddressTag returns the address form of token: its TokenBytes random
// bytes in lower-case base32 (AddressTagLength characters), fit for the
// local part of an email address ("replies+{tag}@reply.acme.example"). It
// holds nothing but the token. It returns "" for a string that is not a
// token.
func AddressTag(token string) string {
	if !ValidToken(token) {
		return ""
	}
	b, _ := enc.DecodeString(token) // ValidToken decoded it
	return tagEnc.EncodeToString(b)
}

// TokenFromAddressTag returns the token whose address form is tag, read
// without regard to case, and whether tag is one.
func TokenFromAddressTag(tag string) (string, bool) {
	if len(tag) != AddressTagLength {
		return "", false
	}
	tag = strings.ToLower(tag)
	b, err := tagEnc.DecodeString(tag)
	if err != nil || len(b) != TokenBytes || tagEnc.EncodeToString(b) != tag {
		return "", false
	}
	return enc.EncodeToString(b), true
}
