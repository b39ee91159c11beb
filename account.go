package nudge

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AccountStatus is where a loan account stands.
type AccountStatus string

// Account statuses. Only active accounts are reminded.
const (
	StatusActive     AccountStatus = "active"
	StatusPaid       AccountStatus = "paid"
	StatusClosed     AccountStatus = "closed"
	StatusChargedOff AccountStatus = "charged_off"
)

// Valid reports whether s is a known status.
func (s AccountStatus) Valid() bool {
	switch s {
	case StatusActive, StatusPaid, StatusClosed, StatusChargedOff:
		return true
	}
	return false
}

// HoldKind is a reason the lender has stopped collection on an account.
type HoldKind string

// Hold kinds a lender may set.
const (
	HoldDispute            HoldKind = "dispute"
	HoldBankruptcy         HoldKind = "bankruptcy"
	HoldCeaseCommunication HoldKind = "cease_communication"
	HoldDeceased           HoldKind = "deceased"
	HoldAttorney           HoldKind = "attorney"
	HoldHardship           HoldKind = "hardship"
)

// HoldPaymentClaimed is set by Nudge, never by a lender's document, when the
// borrower says they have paid: it pauses the cadence until the lender posts
// the payment or clears the hold after reconciliation.
const HoldPaymentClaimed HoldKind = "payment_claimed"

// HoldKinds lists every hold kind a lender may set.
var HoldKinds = []HoldKind{HoldDispute, HoldBankruptcy, HoldCeaseCommunication, HoldDeceased, HoldAttorney, HoldHardship}

// Valid reports whether k is a known hold kind.
func (k HoldKind) Valid() bool {
	for _, h := range HoldKinds {
		if h == k {
			return true
		}
	}
	return false
}

// Hold stops collection on an account. In the account document a hold is
// written either as its kind ("dispute") or as an object with a reason.
type Hold struct {
	Kind   HoldKind `json:"kind"`
	Reason string   `json:"reason,omitempty"`
}

// UnmarshalJSON accepts "dispute" or {"kind": "dispute", "reason": "..."}.
func (h *Hold) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*h = Hold{Kind: HoldKind(s)}
		return nil
	}
	type plain Hold
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("want a hold kind or {\"kind\", \"reason\"}: %w", err)
	}
	*h = Hold(p)
	return nil
}

// Borrower is the person who owes the debt.
type Borrower struct {
	Name string `json:"name"`
	// Language is a BCP 47 tag (en, es, zh-CN); empty means the lender default.
	Language string `json:"language,omitempty"`
	// Timezone is an IANA zone the borrower stated; optional.
	Timezone string `json:"timezone,omitempty"`
}

// Address is the borrower's postal location, used to place them in a time zone.
type Address struct {
	// Country is an ISO 3166-1 alpha-2 code (US, CN).
	Country string `json:"country"`
	// Region is a US state (CA), a Chinese province (GD) or another subdivision code.
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
}

// ContactState records what Nudge has learned about a contact address.
type ContactState string

// Contact states. An empty state means usable.
const (
	ContactOK            ContactState = ""
	ContactWrongParty    ContactState = "wrong_party"
	ContactUndeliverable ContactState = "undeliverable"
)

// Contact is one way to reach the borrower.
type Contact struct {
	Channel ChannelKind `json:"channel"`
	// Address is an E.164 phone number for sms and voice, an email address for email.
	Address string `json:"address"`
	// Consent records prior express consent to texts or artificial-voice calls.
	Consent bool `json:"consent,omitempty"`
	// Workplace marks an email address known to be given by the borrower's employer.
	Workplace bool `json:"workplace,omitempty"`
	// State is set by Nudge (wrong party, undeliverable); lenders leave it empty.
	State ContactState `json:"state,omitempty"`
}

// Account is one loan account as a lender hands it to Nudge. It is the single
// JSON shape used by import, the API, cadence preview and explain; see
// docs/accounts.md.
type Account struct {
	ID        string    `json:"id"`
	Lender    string    `json:"lender"`
	Portfolio string    `json:"portfolio,omitempty"`
	Borrower  Borrower  `json:"borrower"`
	Address   *Address  `json:"address,omitempty"`
	Contacts  []Contact `json:"contacts"`
	Currency  string    `json:"currency"`
	// AmountDue is a decimal string such as "412.50"; never a float.
	AmountDue string        `json:"amount_due"`
	DueDate   Date          `json:"due_date"`
	Status    AccountStatus `json:"status"`
	Holds     []Hold        `json:"holds"`
	// NextActionAt is when the planner next looks at the account; set by the
	// store, never part of the document.
	NextActionAt time.Time `json:"-"`
}

// ContactsFor returns the contacts of the account on channel c, in document order.
func (a *Account) ContactsFor(c ChannelKind) []Contact {
	var out []Contact
	for _, ct := range a.Contacts {
		if ct.Channel == c {
			out = append(out, ct)
		}
	}
	return out
}

// PhoneNumbers returns the distinct phone numbers of the account.
func (a *Account) PhoneNumbers() []string {
	var out []string
	seen := map[string]bool{}
	for _, ct := range a.Contacts {
		if ct.Channel.IsPhone() && !seen[ct.Address] {
			seen[ct.Address] = true
			out = append(out, ct.Address)
		}
	}
	return out
}

// HasHold reports whether the account carries a hold of kind k.
func (a *Account) HasHold(k HoldKind) bool {
	for _, h := range a.Holds {
		if h.Kind == k {
			return true
		}
	}
	return false
}

// DaysPastDue returns how many days today is past the due date (negative before it).
func (a *Account) DaysPastDue(today Date) int { return today.DaysSince(a.DueDate) }
