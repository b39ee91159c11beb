package nudge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// WorkKindPattern is the pattern of a work item kind: the built-in kinds and
// the ones a lender defines.
const WorkKindPattern = `^[a-z][a-z0-9_]{1,31}$`

// Built-in work item kinds.
const (
	WorkCallList    = "call_list"    // a collector calls the borrower
	WorkFieldVisit  = "field_visit"  // an agent visits the borrower
	WorkLegalReview = "legal_review" // counsel reviews the account
	WorkLetter      = "letter"       // a letter is posted
)

// WorkKinds lists the built-in kinds in a stable order.
var WorkKinds = []string{WorkCallList, WorkFieldVisit, WorkLegalReview, WorkLetter}

var workKindRE = regexp.MustCompile(WorkKindPattern)

// ValidWorkKind reports whether k is a built-in kind or a well-formed
// lender-defined one.
func ValidWorkKind(k string) bool { return workKindRE.MatchString(k) }

// WorkStatus is where a work item stands.
type WorkStatus string

// Work item statuses.
const (
	WorkOpen      WorkStatus = "open"      // created, nobody has taken it
	WorkAssigned  WorkStatus = "assigned"  // a person took it
	WorkCompleted WorkStatus = "completed" // done, with an outcome
)

// WorkOutcome is what a person recorded on completing a work item.
type WorkOutcome string

// Work item outcomes.
const (
	OutcomeReached    WorkOutcome = "reached"     // spoke with the borrower
	OutcomePromise    WorkOutcome = "promise"     // the borrower promised to pay (amount and date)
	OutcomeNoContact  WorkOutcome = "no_contact"  // nobody reached
	OutcomeRefused    WorkOutcome = "refused"     // the borrower refused
	OutcomeWrongParty WorkOutcome = "wrong_party" // the contact is not the borrower's
)

// WorkOutcomes lists the outcomes in a stable order.
var WorkOutcomes = []WorkOutcome{OutcomeReached, OutcomePromise, OutcomeNoContact, OutcomeRefused, OutcomeWrongParty}

// Valid reports whether o is a known outcome.
func (o WorkOutcome) Valid() bool { return slices.Contains(WorkOutcomes, o) }

// WorkItem is a piece of work a cadence's task step hands to a person: a
// call to make, a visit, a review, a letter.
type WorkItem struct {
	ID         string
	Lender     string
	AccountID  string
	ReminderID string
	Cadence    string
	Step       string
	Kind       string
	// Instructions say what to do; they are the step's text.
	Instructions string
	// Channel and Address name the contact the item is about (the phone to
	// call, the number a "wrong party" outcome marks); empty when the
	// account has none.
	Channel ChannelKind
	Address string
	Status  WorkStatus
	// Assignee is the person who took the item.
	Assignee string
	Outcome  WorkOutcome
	Note     string
	// PromiseAmount and PromiseDue are the promise a "promise" outcome recorded.
	PromiseAmount string
	PromiseDue    Date
	CreatedAt     time.Time
	AssignedAt    time.Time
	CompletedAt   time.Time
}

// WorkCompletion is what a person enters on completing a work item.
type WorkCompletion struct {
	Outcome WorkOutcome
	Note    string
	// Actor is who completed it; it becomes the assignee when there was none.
	Actor string
	// PromiseAmount (a decimal string; empty means the amount due) and
	// PromiseDue are required for OutcomePromise only.
	PromiseAmount string
	PromiseDue    Date
}

// Validate reports the first problem of c, naming the field.
func (c WorkCompletion) Validate() error {
	if !c.Outcome.Valid() {
		return fmt.Errorf("outcome: unknown outcome %q (want reached, promise, no_contact, refused or wrong_party)", c.Outcome)
	}
	if c.Outcome == OutcomePromise && c.PromiseDue.IsZero() {
		return fmt.Errorf("promise_date: a promise needs the promised date")
	}
	if c.Outcome != OutcomePromise && (c.PromiseAmount != "" || !c.PromiseDue.IsZero()) {
		return fmt.Errorf("promise_date: a promise amount or date is only for the promise outcome")
	}
	return nil
}

// CollectorCall is the voice attempt a completed call_list item records:
// the call the collector placed to the item's number, reported by its
// outcome. Every outcome of a call list means a call was placed (no_contact
// one that rang out: AttemptNoAnswer; the others were answered:
// AttemptCompleted), so it counts toward the call caps of the borrower's
// jurisdictions (Regulation F's 7 calls in 7 days, per-day caps) like the
// bot's calls; reached, promise and refused are a conversation with the
// borrower, which starts the conversation block. It reports false for
// other kinds, an item without a number, or one not completed. The
// attempt's id is derived from the item's, at is when it was completed.
func CollectorCall(w WorkItem, at time.Time) (Attempt, bool) {
	if w.Kind != WorkCallList || w.Address == "" || w.Status != WorkCompleted || !w.Outcome.Valid() {
		return Attempt{}, false
	}
	at = at.UTC()
	a := Attempt{
		ID: "att_call_" + strings.TrimPrefix(w.ID, "wi_"), ReminderID: w.ReminderID, Lender: w.Lender, AccountID: w.AccountID,
		Channel: Voice, Address: w.Address, Status: AttemptCompleted, Template: w.Kind,
		CreatedAt: at, SendingAt: at, SentAt: at, UpdatedAt: at,
	}
	switch w.Outcome {
	case OutcomeNoContact:
		a.Status = AttemptNoAnswer
	case OutcomeReached, OutcomePromise, OutcomeRefused:
		a.AnsweredBy, a.Conversation = "human", true
	case OutcomeWrongParty:
		a.AnsweredBy = "human"
	}
	return a, true
}

// ByCollector reports whether a is a call a collector placed from a
// call_list work item (CollectorCall), not one Nudge placed.
func (a Attempt) ByCollector() bool {
	return a.Channel == Voice && a.Template == WorkCallList && a.ProviderID == ""
}

// WorkPending is a query-only status: open or assigned, not completed.
const WorkPending WorkStatus = "pending"

// WorkItemQuery selects a lender's work items, oldest first, keyset paged.
type WorkItemQuery struct {
	Lender string
	// Kind and Status filter when set (Status may be WorkPending).
	Kind   string
	Status WorkStatus
	// After is the id of the last item of the previous page.
	After string
	Limit int
}

// WorkItemStore keeps work items.
type WorkItemStore interface {
	// CreateWorkItem inserts w, ends its reminder sent and appends e (the
	// work_item.created event) in one transaction. A second call for the
	// same reminder creates nothing and reports false.
	CreateWorkItem(ctx context.Context, w WorkItem, e Event) (bool, error)
	GetWorkItem(ctx context.Context, lender, id string) (WorkItem, error)
	ListWorkItems(ctx context.Context, q WorkItemQuery) ([]WorkItem, error)
	// WorkItemCounts returns the number of open or assigned items per kind.
	WorkItemCounts(ctx context.Context, lender string) (map[string]int, error)
	// AssignWorkItem gives an item that is not completed to assignee.
	AssignWorkItem(ctx context.Context, lender, id, assignee string, now time.Time) (WorkItem, error)
	// UnassignWorkItem puts an assigned item back in its queue, open and
	// without an assignee; a completed item is refused with ErrConflict.
	UnassignWorkItem(ctx context.Context, lender, id string) (WorkItem, error)
	// CompleteWorkItem records c and appends the work_item.completed event
	// in one transaction, and reports true. Completing a completed item again
	// with the same outcome changes nothing and reports false (a retried
	// form); a different outcome is refused with ErrConflict.
	CompleteWorkItem(ctx context.Context, lender, id string, c WorkCompletion, now time.Time) (WorkItem, bool, error)
}
