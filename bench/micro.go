package bench

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/templates"
)

// MicroResult is one hot function's cost per call.
type MicroResult struct {
	Name string `json:"name"`
	// Func is the function measured.
	Func        string        `json:"func"`
	PerOp       time.Duration `json:"per_op"`
	AllocsPerOp int64         `json:"allocs_per_op"`
	BytesPerOp  int64         `json:"bytes_per_op"`
	// Test is the package benchmark that measures the same (go test -bench).
	Test string `json:"test"`
}

// microBench is one hot-function benchmark.
type microBench struct {
	name, fn, test string
	run            func(b *testing.B)
}

// measureMicro runs the hot-function benchmarks with testing.Benchmark.
func measureMicro() ([]MicroResult, error) {
	benches, err := microBenches()
	if err != nil {
		return nil, err
	}
	out := make([]MicroResult, 0, len(benches))
	for _, mb := range benches {
		var failure error
		r := testing.Benchmark(func(b *testing.B) {
			defer func() {
				if b.Failed() {
					failure = fmt.Errorf("benchmark %s failed", mb.name)
				}
			}()
			mb.run(b)
		})
		if failure != nil {
			return nil, failure
		}
		if r.N == 0 {
			return nil, fmt.Errorf("benchmark %s did not run", mb.name)
		}
		out = append(out, MicroResult{Name: mb.name, Func: mb.fn, Test: mb.test,
			PerOp: time.Duration(r.NsPerOp()), AllocsPerOp: r.AllocsPerOp(), BytesPerOp: r.AllocedBytesPerOp()})
	}
	return out, nil
}

// microBenches are the hot functions on a reminder's or a webhook's path,
// with the inputs of the package benchmarks of the same names.
func microBenches() ([]microBench, error) {
	profile, err := compliance.Builtin("us")
	if err != nil {
		return nil, err
	}
	at := time.Date(2026, 6, 2, 17, 0, 0, 0, time.UTC)
	acct := account("acme", "A1", 6, nudge.MustDate("2026-06-01"))
	phone := acct.Contacts[0].Address
	var history []nudge.Attempt
	for d := 6; d > 0; d -= 2 {
		sent := at.Add(-time.Duration(d) * 24 * time.Hour)
		history = append(history, nudge.Attempt{Channel: nudge.SMS, Address: phone, Status: nudge.AttemptDelivered, CreatedAt: sent, SentAt: sent})
	}
	decide := compliance.Input{Account: acct, Channel: nudge.SMS, Address: phone, At: at, History: history, Profile: profile}

	pack := templates.Default()
	data := templates.DataFor(acct, "Acme Auto", nudge.MustDate("2026-06-04"))
	data.Link = "https://pay.example.com/p/x1"
	langs := templates.Locales("en", "en")

	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return nil, err
	}
	rctx := reply.Context{Now: at, Location: ny, Language: "en", Country: "US", AmountDue: "300", Currency: "USD"}
	replies := []string{"STOP", "I will pay $150 on 12/05", "can pay 200 next friday", "I can't stop by the office, call me"}

	const sigURL = "https://nudge.example.com" + twilio.StatusCallbackPath
	form := url.Values{
		"AccountSid": {"AC00000000000000000000000000000001"}, "ApiVersion": {"2010-04-01"},
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "MessageStatus": {"delivered"},
		"SmsSid": {"SM0123456789abcdef0123456789abcdef"}, "SmsStatus": {"delivered"},
		"From": {"+15005550006"}, "To": {"+12125550123"},
	}
	sig := twilio.SignRequest(webhookToken, sigURL, form)

	return []microBench{
		{name: "decision", fn: "compliance.Decide", test: "compliance BenchmarkDecide", run: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := compliance.Decide(decide); d.Action != compliance.Send {
					b.Fatalf("decision %s (%s), want send", d.Action, d.Reason)
				}
			}
		}},
		{name: "render", fn: "templates.Pack.Render (SMS)", test: "templates BenchmarkRender/sms/en", run: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pack.Render("due_sms", nudge.SMS, langs, data); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{name: "reply parsing", fn: "reply.Parse", test: "reply BenchmarkParse", run: func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				reply.Parse(replies[i%len(replies)], rctx)
			}
		}},
		{name: "signature check", fn: "twilio.ValidateSignature", test: "channels/twilio BenchmarkValidateSignature", run: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := twilio.ValidateSignature(webhookToken, sigURL, form, sig); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}, nil
}
