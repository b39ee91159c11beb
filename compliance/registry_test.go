package compliance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
)

func TestDefaultProfileName(t *testing.T) {
	for _, tc := range []struct {
		name string
		acct nudge.Account
		want string
	}{
		{"address in China", nudge.Account{Address: &nudge.Address{Country: "CN"}}, "cn"},
		{"borrower in Shanghai's zone", nudge.Account{Borrower: nudge.Borrower{Timezone: "Asia/Shanghai"}}, "cn"},
		{"address in the United States", nudge.Account{Address: &nudge.Address{Country: "US"}, Borrower: nudge.Borrower{Timezone: "America/Chicago"}}, "us"},
		{"nothing known", nudge.Account{}, "us"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, compliance.DefaultProfileName(tc.acct))
		})
	}
}
