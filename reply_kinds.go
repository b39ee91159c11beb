package nudge

// Intents that put a borrower's reply before a person ahead of the others,
// whatever else the reply asked for. A reply that both opts out and threatens
// to sue ("stop calling me or I will sue") is acted on as an opt-out, and the
// stored reply carries IntentLegalThreat with NeedsPerson set, so that the
// queue of replies needing a person shows why it is there.
const (
	// IntentLegalThreat marks a reply that threatens legal action or names a
	// lawyer ("I will sue", "my attorney", "abogado", "律师", "起诉").
	IntentLegalThreat Intent = "legal_threat"
	// IntentComplaint marks a reply that complains of harassment or says it
	// will report the lender ("harassment", "CFPB", "acoso", "投诉", "骚扰").
	IntentComplaint Intent = "complaint"
	// IntentCeaseCommunication marks a request to stop all communication
	// ("stop contacting me", "déjenme en paz", "别再联系我"): every channel is
	// opted out, the account gets a HoldCeaseCommunication hold, and a person
	// reviews it before anyone contacts the borrower again.
	IntentCeaseCommunication Intent = "cease_communication"
)

// ReviewIntents lists the intents that need a person first, most urgent first.
var ReviewIntents = []Intent{IntentLegalThreat, IntentComplaint, IntentCeaseCommunication}
