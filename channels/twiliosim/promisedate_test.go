package twiliosim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// TestPromiseTextsPromiseAFutureDate reads every promise text a simulated
// borrower sends with the product's reply parser, on days across a year and
// its end: each is a promise, and a dated one falls promiseDays ahead. A
// text with a fixed calendar date promised a past one once that date went by,
// and the product rightly did not count it.
func TestPromiseTextsPromiseAFutureDate(t *testing.T) {
	t.Parallel()
	ny, err := nudge.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, day := range []string{"2026-12-06", "2026-12-30", "2027-02-26", "2027-07-15"} {
		now, err := time.Parse(time.DateOnly, day)
		require.NoError(t, err)
		now = now.Add(15 * time.Hour) // 10:00 in New York
		for lang, texts := range replyTexts[BehaviourPromise] {
			for _, text := range texts {
				sent := withPromiseDate(text, now)
				for token := range promiseDates {
					require.NotContains(t, sent, token)
				}
				res := reply.Parse(sent, reply.Context{Now: now, Location: ny, Language: lang, Country: "US", AmountDue: "200"})
				require.Equal(t, nudge.IntentPromise, res.Intent, "%s: %q on %s", lang, sent, day)
				if sent != text {
					want := nudge.DateOf(now.In(ny)).AddDays(promiseDays)
					require.Equal(t, want, res.Date, "%s: %q on %s", lang, sent, day)
				}
			}
		}
	}
}
