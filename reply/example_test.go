package reply_test

import (
	"fmt"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

func ExampleParse() {
	ny, _ := time.LoadLocation("America/New_York")
	c := reply.Context{
		Now:       time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), // a Friday
		Location:  ny,
		Language:  "en",
		Country:   "US",
		AmountDue: "300",
		Currency:  "USD",
	}
	for _, text := range []string{"PAY 200 FRI", "I will pay on 12/05", "I'll pay on 12/31", "please stop texting me", "Wrong number"} {
		r := reply.Parse(text, c)
		fmt.Println(r.Intent, r.Amount, r.Date, r.TooFar)
	}

	c.Menu = map[string]reply.MenuOption{"1": {Intent: nudge.IntentPromise, Date: nudge.MustDate("2026-12-05")}}
	r := reply.Parse("1", c)
	fmt.Println(r.Intent, r.Amount, r.Date)
	// Output:
	// promise 200.00 2026-11-27 false
	// promise 300.00 2026-12-05 false
	// promise 300.00 2026-12-31 true
	// opt_out   false
	// wrong_number   false
	// promise 300.00 2026-12-05
}
