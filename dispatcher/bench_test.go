package dispatcher

import (
	"context"
	"fmt"
	"testing"

	"github.com/nudgehq/nudge"
)

// BenchmarkPipelineSend measures one reminder through every stage (load,
// account, compliance, claim, render, send) with in-memory fakes: the cost
// the dispatcher adds on top of the store and the provider.
func BenchmarkPipelineSend(b *testing.B) {
	bb := setup(b)
	ids := make([]string, b.N)
	for i := range b.N {
		ids[i] = bb.add(fmt.Sprintf("bench-%d", i), nil, nil).ID
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := bb.pipe.Process(ctx, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := bb.sms.Sent(); got != b.N {
		b.Fatalf("sent %d messages, want %d", got, b.N)
	}
}

// BenchmarkPipelineSuppress measures a reminder that compliance suppresses
// (the borrower opted out), which stops before the claim.
func BenchmarkPipelineSuppress(b *testing.B) {
	bb := setup(b)
	for _, c := range []nudge.ChannelKind{nudge.SMS, nudge.Email} {
		addr := smsAddr
		if c == nudge.Email {
			addr = emailAddr
		}
		if _, err := bb.store.AddOptOut(context.Background(), nudge.OptOut{Lender: testLender, Channel: c, Address: addr}); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, b.N)
	for i := range b.N {
		ids[i] = bb.add(fmt.Sprintf("bench-%d", i), nil, nil).ID
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := bb.pipe.Process(ctx, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
}
