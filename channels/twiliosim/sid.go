package twiliosim

import (
	"crypto/rand"
	"encoding/hex"
)

// newSID returns a Twilio-shaped SID: a two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (it panics itself
		// since Go 1.24); keep the SID well-formed regardless.
		return prefix + "00000000000000000000000000000000"
	}
	return prefix + hex.EncodeToString(b[:])
}
