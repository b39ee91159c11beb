package twiliosim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMenuReplies(t *testing.T) {
	t.Parallel()
	const (
		en     = "Acme: Jane, your $412.50 payment is 7 days late. Reply 1 to pay $412.50 by Fri 12/04, 2 if you already paid. Reply STOP to opt out."
		es     = "Acme: Ana, su pago de $412.50 tiene 7 dias de atraso. Responda 1 para pagar $412.50 el vie 04/12, 2 si ya pago. Responde ALTO para cancelar."
		zh     = "【Acme】王伟您好，您的还款US$300.00已逾期7天。回复1承诺12月4日前还US$300.00，回复2表示已还款。回复TD退订"
		broken = "Acme: Jane, we didn't receive the payment of $412.50 you planned for November 28, 2026. Reply 1 if you already paid. Reply STOP to opt out."
		plain  = "Acme: Jane, your $412.50 payment is 7 days late. Reply STOP to opt out."
	)
	tests := []struct {
		name      string
		behaviour Behaviour
		body      string
		key       string // "" when no key answers
	}{
		{name: "en promise", behaviour: BehaviourPromise, body: en, key: "1"},
		{name: "en paid", behaviour: BehaviourPaid, body: en, key: "2"},
		{name: "es promise", behaviour: BehaviourPromise, body: es, key: "1"},
		{name: "es paid", behaviour: BehaviourPaid, body: es, key: "2"},
		{name: "zh promise", behaviour: BehaviourPromise, body: zh, key: "1"},
		{name: "zh paid", behaviour: BehaviourPaid, body: zh, key: "2"},
		{name: "a broken promise offers paid as 1", behaviour: BehaviourPaid, body: broken, key: "1"},
		{name: "a broken promise offers no promise", behaviour: BehaviourPromise, body: broken},
		{name: "no menu", behaviour: BehaviourPaid, body: plain},
		{name: "a wrong number has no key", behaviour: BehaviourWrongNumber, body: en},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, words := 0, 0
			for i := range 200 {
				b := Borrower{Number: fmt.Sprintf("+1415555%04d", i), Behaviour: tc.behaviour, Language: "en"}
				r, ok := b.replyFor(42, tc.body, 0)
				require.True(t, ok)
				if tc.key != "" && r == tc.key {
					keys++
					continue
				}
				lang := DetectLanguage(tc.body)
				require.True(t, slices.Contains(replyTexts[tc.behaviour][lang], r), "reply %q", r)
				words++
			}
			if tc.key == "" {
				require.Zero(t, keys)
				return
			}
			require.Positive(t, keys, "some borrowers answer with the key")
			require.Positive(t, words, "others still answer in words")
		})
	}
}
