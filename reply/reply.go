package reply

import (
	"time"
	"unicode/utf8"

	"github.com/nudgehq/nudge"
)

// DefaultMaxPromiseDays is the promise horizon used when Context.MaxPromiseDays
// is zero or negative: a promise may name a date at most this many days after
// the borrower's today.
const DefaultMaxPromiseDays = 30

// MaxReplyRunes is the longest reply Parse reads. A longer text (a long web
// form comment) is IntentUnknown: a person reads it.
const MaxReplyRunes = 1600

// MaxAmountFactor bounds a promised amount: an amount above MaxAmountFactor
// times the amount due is treated as unclear, and the reply needs a person.
const MaxAmountFactor = 10

// Context is what Parse knows about the borrower and the message they answer.
type Context struct {
	// Now is the instant the reply arrived.
	Now time.Time
	// Location is the borrower's time zone; relative and year-less dates are
	// read in it. Nil means Now's own location.
	Location *time.Location
	// Language is the borrower's language tag (en, es, zh-CN, en-GB, …). It
	// decides the order of numeric dates before Country does (Spanish and
	// en-GB day first, en-US month first) and breaks ties when detecting the
	// reply's language.
	Language string
	// Country is the borrower's ISO 3166 country code. When Language names
	// no region and is not Spanish, month-first countries (US and its
	// territories, PH, CA, CN, TW, JP, KR, MN) read 12/05 as December 5; every
	// other country reads it as 12 May.
	Country string
	// AmountDue is the amount due as a decimal string ("200" or "200.50"). A
	// promise that names no amount promises this amount.
	AmountDue string
	// Currency is the ISO 4217 code of AmountDue; it sets the number of
	// fraction digits of amounts (2 when empty or unknown).
	Currency string
	// MaxPromiseDays is the lender's promise horizon in days from today;
	// zero or negative means DefaultMaxPromiseDays.
	MaxPromiseDays int
	// Menu maps the keys of a numbered menu offered in the reminder ("Reply 1
	// to pay $300.00 by Fri 12/05, 2 if you already paid") to what each key
	// means: the menu of the latest SMS the borrower was sent, when it
	// offered one. Without a menu a bare number means nothing and goes to a
	// person.
	Menu nudge.Menu
	// Channel is the channel the reply came on; empty means SMS. It decides
	// what words that do not name a channel ("stop sending me messages")
	// revoke: emails when the reply is an email, else texts.
	Channel nudge.ChannelKind
}

// MenuOption is what one key of a reminder's menu means: the option the
// attempt that sent the reminder stored (nudge.Attempt.Menu).
type MenuOption = nudge.MenuOption

// Result is what a reply means.
type Result struct {
	// Intent is what the borrower wants; IntentUnknown means a person must read
	// the reply.
	Intent nudge.Intent
	// Amount is the promised amount, normalised to the currency's fraction
	// digits ("200" becomes "200.00"); set only for promises. It is empty when
	// the borrower named no amount and Context.AmountDue is not a decimal.
	Amount string
	// Date is the promised date in the borrower's time zone; set only for
	// promises, never before the borrower's today.
	Date nudge.Date
	// Keyword is the upper-cased keyword ("STOP", "OPT OUT", "退订") when the
	// whole reply was an opt-out, opt-in or help keyword; empty otherwise,
	// including for opt-outs written as a sentence ("please stop texting me"),
	// which carriers and Twilio do not act on by themselves.
	Keyword string
	// TooFar reports a promise dated beyond the horizon: the intent stays
	// IntentPromise and the caller asks for an earlier date.
	TooFar bool
	// Past reports a promise naming a date before today: such a reply is not
	// a promise, its intent is IntentUnknown and it carries no date.
	Past bool
	// Language is the language the reply is written in (en, es or zh-CN), or
	// empty when the reply has no words that tell.
	Language string
	// Channels are the channels an opt-out revokes when the reply names
	// them, in nudge.Channels order: "stop calling me" revokes voice only,
	// even when it arrives as a text; "stop texting and calling me" revokes
	// both; a request to stop all communication revokes every channel. Empty
	// means the channel the reply came on (STOP, "remove me from your list").
	// Set only for opt-outs.
	Channels []nudge.ChannelKind
	// Ambiguous reports a promise whose numeric date reads two ways (10/12
	// is 10 December day first, October 12 month first) and whose reading in
	// the borrower's order is past. It is not a promise: the intent is
	// IntentUnknown, Past is set, and the caller asks the borrower which
	// date they meant.
	Ambiguous bool
	// Alternative is, for an Ambiguous reply, the date read in the other
	// order when that one is not past; zero otherwise.
	Alternative nudge.Date
	// Flags report what a person must see first, whatever the intent.
	Flags Flags
}

// Flags report what a reply says, besides its intent, that a person must
// review before anyone contacts the borrower again.
type Flags struct {
	// Cease reports a request to stop all communication ("stop contacting
	// me", "leave me alone", "déjenme en paz", "别再联系我", or every channel
	// named): the intent is then IntentOptOut with every channel in
	// Result.Channels.
	Cease bool
	// LegalThreat reports a threat of legal action or a mention of a lawyer
	// ("I will sue", "lawsuit", "demandar", "起诉", "律师").
	LegalThreat bool
	// Attorney reports a mention of the borrower's lawyer or attorney
	// ("talk to my attorney", "abogado", "律师"); LegalThreat is set too. A
	// lender may treat it as a sign of representation (12 CFR 1006.6(b)(2)).
	Attorney bool
	// Complaint reports a complaint: harassment, a regulator ("CFPB",
	// "Profeco", "12378"), "report you", "acoso", "投诉", "骚扰".
	Complaint bool
}

// Review returns the intent a person reviews the reply under, the most
// urgent of nudge.ReviewIntents that applies, or "" when no flag is set.
func (f Flags) Review() nudge.Intent {
	switch {
	case f.LegalThreat || f.Attorney:
		return nudge.IntentLegalThreat
	case f.Complaint:
		return nudge.IntentComplaint
	case f.Cease:
		return nudge.IntentCeaseCommunication
	}
	return ""
}

// Priority reports a legal threat or a complaint: the reply goes before a
// person ahead of every other.
func (f Flags) Priority() bool { return f.LegalThreat || f.Attorney || f.Complaint }

// Parse reads a borrower's free-text reply (an SMS, a speech result or a web
// form comment) and returns its intent. It does no I/O and reads no clock: the
// instant and the borrower's zone come from c. The grammar is described in
// the package documentation.
func Parse(text string, c Context) Result {
	if utf8.RuneCountInString(text) > MaxReplyRunes {
		return Result{Intent: nudge.IntentUnknown}
	}
	p := newParser(text, c)
	r := p.parse()
	r.Language = p.language()
	return r
}
