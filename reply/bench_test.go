package reply_test

import (
	"testing"

	"github.com/nudgehq/nudge/reply"
)

// BenchmarkParse parses a mix of realistic replies in the three languages.
func BenchmarkParse(b *testing.B) {
	bu := setup(b)
	replies := []struct {
		text string
		ctx  reply.Context
	}{
		{"STOP", bu.en},
		{"I will pay $150 on 12/05", bu.en},
		{"can pay 200 next friday", bu.en},
		{"I can't stop by the office, call me", bu.en},
		{"pagaré 200 el 5 de diciembre", bu.es},
		{"ya pagué", bu.es},
		{"下周五还500", bu.zh},
		{"不要再发了", bu.zh},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := replies[i%len(replies)]
		reply.Parse(r.text, r.ctx)
	}
}
