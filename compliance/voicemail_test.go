package compliance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDebtWording(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, business, want string
	}{
		{name: "a lender's trade name", business: "Acme Auto Finance"},
		{name: "collections", business: "Acme Collections LLC", want: "Collections"},
		{name: "debt in any case", business: "ACME DEBT SERVICES", want: "DEBT"},
		{name: "recovery", business: "Acme Recovery Group", want: "Recovery"},
		{name: "a name that only starts like collect", business: "Collins Motors"},
		{name: "spanish with accents", business: "Recaudación Acme", want: "Recaudación"},
		{name: "spanish cobranza", business: "Servicios de Cobranza Acme", want: "Cobranza"},
		{name: "cobra is a snake", business: "Cobra Motors"},
		{name: "chinese collection", business: "华夏催收服务", want: "催收"},
		{name: "chinese lender", business: "华夏汽车金融"},
		{name: "punctuation around the word", business: "Acme (Debt) Co.", want: "Debt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, DebtWording(tt.business))
		})
	}
}
