package kpi

// Definition is one KPI rate: a numerator over a denominator of Counts.
type Definition struct {
	// Name is the KPI's key in JSON and CSV ("delivery_rate").
	Name string
	// Title is its English title (the ops page translates it).
	Title string
	// Num and Den pick the numerator and the denominator.
	Num func(Counts) int64
	Den func(Counts) int64
}

// Definitions are the KPI rates, in the order pages show them.
var Definitions = []Definition{
	{"delivery_rate", "Delivery rate", func(c Counts) int64 { return c.Delivered }, func(c Counts) int64 { return c.Sent }},
	{"contact_rate", "Contact rate", func(c Counts) int64 { return c.Contacted }, func(c Counts) int64 { return c.Contactable }},
	{"right_party_contact_rate", "Right-party contact rate", func(c Counts) int64 { return c.RightParty }, func(c Counts) int64 { return c.Sent }},
	{"reply_rate", "Reply rate", func(c Counts) int64 { return c.Replied }, func(c Counts) int64 { return c.Sent }},
	{"promise_rate", "Promise rate", func(c Counts) int64 { return c.Promised }, func(c Counts) int64 { return c.Sent }},
	{"promise_kept_rate", "Promise-kept rate", func(c Counts) int64 { return c.PromiseKept }, func(c Counts) int64 { return c.Promised }},
	{"cure_rate", "Cure rate", func(c Counts) int64 { return c.Cured }, func(c Counts) int64 { return c.Cycles }},
	{"roll_rate_1_30_to_31_60", "Roll rate 1–30 → 31–60", func(c Counts) int64 { return c.Roll1 }, func(c Counts) int64 { return c.Roll1Base }},
	{"roll_rate_31_60_to_61_90", "Roll rate 31–60 → 61–90", func(c Counts) int64 { return c.Roll2 }, func(c Counts) int64 { return c.Roll2Base }},
	{"opt_out_rate", "Opt-out rate", func(c Counts) int64 { return c.OptedOut }, func(c Counts) int64 { return c.Sent }},
	{"complaint_rate", "Complaint rate", func(c Counts) int64 { return c.Complained }, func(c Counts) int64 { return c.Sent }},
}

// Rate is a numerator over a denominator.
type Rate struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// Value is Num/Den, and false when Den is 0 (no rate).
func (r Rate) Value() (float64, bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// Rates computes every Definition over c, by name.
func Rates(c Counts) map[string]Rate {
	out := make(map[string]Rate, len(Definitions))
	for _, d := range Definitions {
		out[d.Name] = Rate{Num: d.Num(c), Den: d.Den(c)}
	}
	return out
}
