package nudge

import "time"

// ArmAssignment records the arm of a cadence experiment an account is in.
// It is recorded once, the first time the account is planned while the
// experiment runs, and never changes.
type ArmAssignment struct {
	Lender     string
	AccountID  string
	Experiment string
	// Cadence is the cadence that declared the experiment.
	Cadence    string
	Arm        string
	AssignedAt time.Time
}
