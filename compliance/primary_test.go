package compliance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestPrimaryLocation(t *testing.T) {
	t.Parallel()
	us, err := Builtin("us")
	require.NoError(t, err)
	tests := []struct {
		name string
		acct nudge.Account
		p    *Profile
		want string
	}{
		{name: "stated zone wins", acct: nudge.Account{Borrower: nudge.Borrower{Timezone: "America/Phoenix"},
			Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: "+12125550123"}}}, p: us, want: "America/Phoenix"},
		{name: "first candidate zone", acct: nudge.Account{Address: &nudge.Address{Country: "US", Region: "CA"}}, p: us, want: "America/Los_Angeles"},
		{name: "no profile, no stated zone", acct: nudge.Account{Address: &nudge.Address{Country: "US", Region: "CA"}}, want: "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, PrimaryLocationOf(tt.acct, tt.p).String())
			zones, _ := CandidateZones(tt.acct, us)
			if tt.p != nil {
				require.Equal(t, tt.want, PrimaryLocation(tt.acct, zones).String(), "the zones of a decision give the same answer")
			}
		})
	}
}
