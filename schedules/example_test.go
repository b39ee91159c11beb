package schedules_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/schedules"
)

func ExampleParse() {
	src := []byte(`name: us-auto-short
profile: us
applies_to:
  days_past_due: {min: -5, max: 10}
steps:
  - {id: predue-sms, day: -3, at: "10:00", channel: sms, template: predue_sms}
  - {id: late-call, day: 12, at: "9am", channel: fax, template: late_voice}
`)
	_, err := schedules.Parse("short.yaml", src)
	var problems schedules.Problems
	if errors.As(err, &problems) {
		fmt.Println(len(problems), "problems:")
		fmt.Println(err)
	}
	// Output:
	// 3 problems:
	// short.yaml:7:26: steps[1].day: day 12 is outside the cadence's days_past_due range [-5, 10]
	// short.yaml:7:34: steps[1].at: "9am" is not a time of day like 09:30 (HH:MM, 00:00 to 23:59)
	// short.yaml:7:50: steps[1].channel: unknown channel "fax" (want sms, voice, email or task)
}

func ExampleCadence_Due() {
	c, err := schedules.ParseFile("../examples/us-auto.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		fmt.Println(err)
		return
	}
	acct := nudge.Account{ID: "A-1001", Lender: "acme", Portfolio: "auto", Status: nudge.StatusActive, DueDate: nudge.MustDate("2026-06-01")}
	now := time.Date(2026, 6, 2, 10, 15, 0, 0, ny) // the day after the due date, 10:15 in New York
	res := c.Due(schedules.DueInput{Account: acct, Location: ny, Since: now.Add(-time.Minute), Now: now})
	for _, r := range res.Due {
		fmt.Println(r.Key, r.Channel, r.Template, r.DueAt.In(ny).Format("2006-01-02 15:04 MST"))
	}
	fmt.Println("next:", res.Next.In(ny).Format("2006-01-02 15:04 MST"))
	// Output:
	// acme/A-1001/us-auto-standard/late-sms/2026-06-01 sms late_sms 2026-06-02 10:00 EDT
	// next: 2026-06-06 17:30 EDT
}
