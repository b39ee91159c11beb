package nudge

import "time"

// Lender is a tenant: every record belongs to exactly one lender.
type Lender struct {
	ID   string
	Name string
	// Language is the default language for borrowers who state none.
	Language string
	// Timezone runs the lender's cron schedule and blackout calendar.
	Timezone string
	// Profile is the compliance profile name (us, cn, or a lender profile).
	Profile string
	// HelpPhone is the number borrowers are told to call (E.164).
	HelpPhone string
	// AgentPhone is where a voice call is transferred to reach a person (E.164).
	AgentPhone string
	// VoicemailBusinessName is how a limited-content voicemail (12 CFR
	// 1006.2(j)) names the business: a name that does not say it collects
	// debts; empty means Name when Name does not.
	VoicemailBusinessName string
	// VoicemailCallerName is the natural person (an assumed name is allowed)
	// a limited-content voicemail asks the borrower to call back.
	VoicemailCallerName string
	// PaymentURL is the lender's payment portal link as a template over
	// {account}, {amount} and {currency} (package payment); empty means the
	// lender has none.
	PaymentURL string
	// Plans are the lender's rules for payment plans a borrower may choose
	// on the self-service page.
	Plans     PlanRules
	CreatedAt time.Time
}

// PlanRules are a lender's rules for payment plans: a borrower may split
// the amount due into 2 to MaxInstalments instalments, IntervalDays apart,
// each of at least MinInstalment, the last no more than MaxDays after the
// day the plan is made. The zero value offers no plan.
type PlanRules struct {
	// MaxInstalments is the most instalments a plan may have; below 2 no
	// plan is offered.
	MaxInstalments int
	// MinInstalment is the smallest instalment as a decimal amount in the
	// account's currency ("50.00"); empty means any amount above zero.
	MinInstalment string
	// IntervalDays is the number of days between two instalments.
	IntervalDays int
	// MaxDays is how many days after the day the plan is made its last
	// instalment may fall.
	MaxDays int
}

// Offered reports whether the rules let a borrower choose a plan.
func (r PlanRules) Offered() bool {
	return r.MaxInstalments >= 2 && r.IntervalDays > 0 && r.MaxDays > 0
}

// Role is what an API key may do.
type Role string

// Roles, from most to least powerful.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleViewer }

// PlatformLender is the Lender of platform keys: they belong to the
// operators who run Nudge for every lender (the Asynq queue monitor, every
// lender's dashboard), not to a lender. No lender id can take this value.
const PlatformLender = "*"

// APIKey is a lender's credential, or a platform operator's when Lender is
// PlatformLender. Only the hash of the secret is stored.
type APIKey struct {
	ID        string
	Lender    string
	Role      Role
	Hash      string
	CreatedAt time.Time
	RevokedAt time.Time
}

// Platform reports whether k is a platform operator's key.
func (k APIKey) Platform() bool { return k.Lender == PlatformLender }
