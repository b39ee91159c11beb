package bench

import (
	"regexp"
	"testing"
)

// TestNextSIDNeverRepeats checks that the stand-ins' message SIDs look like
// Twilio's and are never given twice: the in-process and worker-process
// runs share a database, and a SID given twice names two attempts.
func TestNextSIDNeverRepeats(t *testing.T) {
	shape := regexp.MustCompile(`^SM[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		sid := nextSID()
		if !shape.MatchString(sid) {
			t.Fatalf("SID %q is not SM and 32 hex digits", sid)
		}
		if seen[sid] {
			t.Fatalf("SID %q given twice", sid)
		}
		seen[sid] = true
	}
}
