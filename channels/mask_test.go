package channels_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/channels"
)

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "us phone", in: "+14155550123", want: "+1********23"},
		{name: "uk phone", in: "+447911123456", want: "+44********56"},
		{name: "china mobile", in: "+8613812345678", want: "+86*********78"},
		{name: "three digit code", in: "+353861234567", want: "+353*******67"},
		{name: "short phone", in: "+123", want: "+***"},
		{name: "email", in: "jane.doe@example.com", want: "j***@example.com"},
		{name: "unicode email", in: "émile@example.fr", want: "é***@example.fr"},
		{name: "empty local part", in: "@example.com", want: "***@example.com"},
		{name: "other", in: "abcdef", want: "****ef"},
		{name: "tiny", in: "ab", want: "**"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, channels.Mask(tt.in))
		})
	}
}
