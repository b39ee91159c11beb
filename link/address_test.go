package link_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
)

// TestAddressTag issues a reply token and finds it again from its address
// form, also after a mail system folded its case; nothing else is a tag.
func TestAddressTag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reply := link.Link{Purpose: link.Reply, Lender: "acme", AccountID: "L-100021", Channel: nudge.Email, Address: "ana.garcia@example.com"}
	issued, err := b.svc.Issue(context.Background(), reply, 0)
	require.NoError(t, err)
	tag := link.AddressTag(issued.Token)
	require.Len(t, tag, link.AddressTagLength)
	require.Equal(t, strings.ToLower(tag), tag, "the address form is lower case")
	for _, s := range []string{"ana", "garcia", "example", "l100021", "100021"} {
		require.NotContains(t, tag, s, "the tag holds no data of the borrower")
	}
	tests := []struct {
		name string
		tag  string
		ok   bool
	}{
		{name: "as issued", tag: tag, ok: true},
		{name: "upper case", tag: strings.ToUpper(tag), ok: true},
		{name: "one character short", tag: tag[:len(tag)-1]},
		{name: "one character more", tag: tag + "a"},
		{name: "not base32", tag: "0" + tag[1:]},
		{name: "the token itself", tag: issued.Token},
		{name: "empty", tag: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token, ok := link.TokenFromAddressTag(tc.tag)
			require.Equal(t, tc.ok, ok)
			if !tc.ok {
				return
			}
			require.Equal(t, issued.Token, token)
			l, err := b.svc.Resolve(context.Background(), token, link.Reply)
			require.NoError(t, err)
			require.Equal(t, reply.Address, l.Address)
		})
	}
	require.Empty(t, link.AddressTag("not a token"))
}

// FuzzTokenFromAddressTag checks that a tag read back gives a token whose
// address form is the tag (case aside): one tag per token, no other.
func FuzzTokenFromAddressTag(f *testing.F) {
	for _, seed := range []string{"", "aaaaaaaaaaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAAAA", "77777777777777777777777777", "abc", "aaaaaaaaaaaaaaaaaaaaaaaaa="} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		token, ok := link.TokenFromAddressTag(tag)
		if !ok {
			return
		}
		require.True(t, link.ValidToken(token))
		require.Equal(t, strings.ToLower(tag), link.AddressTag(token))
	})
}
