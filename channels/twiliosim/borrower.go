package twiliosim

import (
	"encoding/binary"
	"hash/fnv"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/goodsign/monday"

	nudge "github.com/nudgehq/nudge"
)

// Behaviour is how a simulated borrower (or the number's carrier) reacts to
// a reminder.
type Behaviour string

// Borrower behaviours. The carrier outcomes mirror Twilio's error codes.
const (
	// BehaviourSilent: messages are delivered; the borrower never answers.
	BehaviourSilent Behaviour = "silent"
	// BehaviourUnreachable: the handset is off; messages end undelivered with 30003.
	BehaviourUnreachable Behaviour = "unreachable"
	// BehaviourUnknownNumber: the number does not exist; undelivered with 30005.
	BehaviourUnknownNumber Behaviour = "unknown_number"
	// BehaviourLandline: a landline; messages fail with 30006.
	BehaviourLandline Behaviour = "landline"
	// BehaviourFiltered: the carrier filters the message; undelivered with 30007.
	BehaviourFiltered Behaviour = "filtered"
	// BehaviourCarrierError: an unknown carrier error; undelivered with 30008.
	BehaviourCarrierError Behaviour = "carrier_error"
	// BehaviourStop: delivered; the borrower replies STOP and is opted out.
	BehaviourStop Behaviour = "stop"
	// BehaviourPromise: delivered; the borrower promises to pay.
	BehaviourPromise Behaviour = "promise"
	// BehaviourPaid: delivered; the borrower says they already paid.
	BehaviourPaid Behaviour = "paid"
	// BehaviourWrongNumber: delivered; the person says it is the wrong number.
	BehaviourWrongNumber Behaviour = "wrong_number"
)

// Weight gives a behaviour its share of generated borrowers.
type Weight struct {
	Behaviour Behaviour
	Weight    int
}

// DefaultMix is the share of each behaviour among generated borrowers.
var DefaultMix = []Weight{
	{BehaviourSilent, 34},
	{BehaviourPromise, 16},
	{BehaviourPaid, 10},
	{BehaviourStop, 10},
	{BehaviourWrongNumber, 5},
	{BehaviourUnreachable, 10},
	{BehaviourUnknownNumber, 4},
	{BehaviourLandline, 5},
	{BehaviourFiltered, 3},
	{BehaviourCarrierError, 3},
}

// DefaultLanguages are the languages generated borrowers speak when a
// reminder's language cannot be detected.
var DefaultLanguages = []string{"en", "es", "zh"}

// CallOutcome is what happens when the simulator rings a borrower.
type CallOutcome string

// Call outcomes.
const (
	CallHuman    CallOutcome = "human"     // a person answers
	CallMachine  CallOutcome = "machine"   // voicemail answers (answered_by machine_end_beep)
	CallBusy     CallOutcome = "busy"      // the line is busy
	CallNoAnswer CallOutcome = "no-answer" // it rings out
	CallFailed   CallOutcome = "failed"    // the call cannot be placed
)

// DefaultKeys are the keys a generated borrower presses at successive
// <Gather> verbs, by behaviour, separated by spaces. They follow Nudge's
// voice menu: at the identity check 1 (it is me) or 2 (wrong person), then
// at the menu 1 promise to pay by the offered date, 2 choose a date (then
// four digits MMDD and 1 to confirm), 3 already paid, 4 talk to a person,
// 9 stop these calls. Behaviours without keys give no input.
var DefaultKeys = map[Behaviour]string{
	BehaviourPromise:     "1 1",
	BehaviourPaid:        "1 3",
	BehaviourWrongNumber: "2",
	BehaviourStop:        "1 9",
}

// Borrower is the simulated person (and carrier) behind one number.
type Borrower struct {
	// Number is the borrower's E.164 number.
	Number string
	// Behaviour decides delivery and what the borrower answers.
	Behaviour Behaviour
	// Language ("en", "es", "zh") is used when the reminder's language
	// cannot be detected from its body.
	Language string
	// Replies, when set, are the exact texts sent back, one per delivered
	// message, instead of texts generated from Behaviour.
	Replies []string
	// MaxReplies bounds generated replies (default 1): a borrower answers the
	// first MaxReplies delivered messages.
	MaxReplies int
	// Call is what happens when the borrower is called; empty derives it
	// from Behaviour.
	Call CallOutcome
	// Digits are pressed at successive <Gather> verbs (one entry per
	// Gather, such as "1" or "1205"); nil derives them from Behaviour
	// (DefaultKeys or Config.Keys).
	Digits []string
	// Speech is said at successive speech <Gather> verbs.
	Speech []string

	// model, when set, decides a responsive generated borrower's answers
	// (see Propensity).
	model *Propensity
}

// carrier outcome of one message for a behaviour: final status and error code.
func (b Borrower) smsOutcome() (status string, code int) {
	switch b.Behaviour {
	case BehaviourUnreachable:
		return "undelivered", 30003
	case BehaviourUnknownNumber:
		return "undelivered", 30005
	case BehaviourLandline:
		return "failed", 30006
	case BehaviourFiltered:
		return "undelivered", 30007
	case BehaviourCarrierError:
		return "undelivered", 30008
	}
	return "delivered", 0
}

func (b Borrower) callOutcome() CallOutcome {
	if b.Call != "" {
		return b.Call
	}
	switch b.Behaviour {
	case BehaviourSilent, BehaviourUnreachable:
		return CallNoAnswer
	case BehaviourUnknownNumber:
		return CallFailed
	case BehaviourCarrierError:
		return CallBusy
	case BehaviourFiltered:
		return CallMachine
	}
	return CallHuman
}

// hash64 mixes the seed, the number and extra salt into 64 bits.
func hash64(seed int64, number string, salt uint64) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], salt)
	h.Write(b[:])
	h.Write([]byte(number))
	// fnv's low bits are weak for short inputs.
	return nudge.Mix64(h.Sum64())
}

// generateBorrower derives a borrower from the seed and the number alone.
func generateBorrower(seed int64, number string, mix []Weight, languages []string) Borrower {
	b := Borrower{Number: number, Behaviour: BehaviourSilent, MaxReplies: 1}
	total := 0
	for _, w := range mix {
		total += max(w.Weight, 0)
	}
	if total > 0 {
		pick := int(hash64(seed, number, 1) % uint64(total))
		for _, w := range mix {
			if pick < max(w.Weight, 0) {
				b.Behaviour = w.Behaviour
				break
			}
			pick -= max(w.Weight, 0)
		}
	}
	if len(languages) > 0 {
		b.Language = languages[hash64(seed, number, 2)%uint64(len(languages))]
	}
	return b
}

// replyTexts are the generated answers per behaviour and language.
var replyTexts = map[Behaviour]map[string][]string{
	BehaviourStop: {
		"en": {"STOP", "Stop", "UNSUBSCRIBE"},
		"es": {"STOP", "Stop"},
		"zh": {"STOP"},
	},
	BehaviourPromise: {
		"en": {"PAY 200 FRI", "I will pay on {mm/dd}", "I can pay 150 next Friday"},
		"es": {"Pagaré el {d de mes}", "Pago 200 el viernes"},
		"zh": {"我明天还款", "承诺{m月d日}还款"},
	},
	BehaviourPaid: {
		"en": {"paid", "I already paid", "Paid it yesterday"},
		"es": {"ya pagué", "Ya hice el pago"},
		"zh": {"已还", "我已经还款了"},
	},
	BehaviourWrongNumber: {
		"en": {"Wrong number", "You have the wrong number"},
		"es": {"Número equivocado", "Se equivocó de número"},
		"zh": {"打错了", "你发错人了"},
	},
}

// promiseDays is how far ahead a dated promise falls: within every lender's
// promise horizon, and after the borrower's today in any time zone.
const promiseDays = 3

// promiseDates are the date tokens of the reply texts and how each is
// written: a layout in its language's locale, as the templates write dates
// (monday.Format).
var promiseDates = map[string]struct {
	layout string
	locale monday.Locale
}{
	"{mm/dd}":    {"01/02", monday.LocaleEnUS},
	"{d de mes}": {"2 de January", monday.LocaleEsES},
	"{m月d日}":     {"1月2日", monday.LocaleZhCN},
}

// withPromiseDate writes the date promiseDays after now (UTC) over the date
// tokens of a reply text (12/09, 9 de diciembre, 12月9日), so that a dated
// promise is a future one whatever day the simulator runs on.
func withPromiseDate(text string, now time.Time) string {
	d := now.UTC().AddDate(0, 0, promiseDays)
	for token, form := range promiseDates {
		if strings.Contains(text, token) {
			text = strings.ReplaceAll(text, token, monday.Format(d, form.layout, form.locale))
		}
	}
	return text
}

// menuOffers find the key of a numbered menu option in a reminder body, per
// behaviour, in the default templates' three languages ("Reply 1 to pay
// $300.00 by Fri 12/04, 2 if you already paid.").
var menuOffers = map[Behaviour]*regexp.Regexp{
	BehaviourPromise: regexp.MustCompile(`(?:Reply |Responda |回复)(\d)(?: to pay | para pagar |承诺)`),
	BehaviourPaid:    regexp.MustCompile(`(?:Reply |, |Responda |回复)(\d)(?: if you already paid| si ya pag|表示已还款)`),
}

// menuKey returns the key of the menu option in body that answers for the
// behaviour, and whether the body offers one.
func menuKey(b Behaviour, body string) (string, bool) {
	re, ok := menuOffers[b]
	if !ok {
		return "", false
	}
	m := re.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// replyFor returns the borrower's n-th reply (0-based) to a message with
// the given body, and whether there is one.
func (b Borrower) replyFor(seed int64, body string, n int) (string, bool) {
	if b.Replies != nil {
		if n < len(b.Replies) {
			return b.Replies[n], true
		}
		return "", false
	}
	maxReplies := b.MaxReplies
	if maxReplies <= 0 {
		maxReplies = 1
	}
	if n >= maxReplies {
		return "", false
	}
	if b.model.responsive(b) {
		return b.model.reply(seed, b, body, n)
	}
	if key, ok := menuKey(b.Behaviour, body); ok && hash64(seed, b.Number, 7)%2 == 0 {
		// Half the borrowers answer a numbered menu with its key.
		return key, true
	}
	texts, ok := replyTexts[b.Behaviour]
	if !ok {
		return "", false
	}
	lang := DetectLanguage(body)
	if lang == "" {
		lang = b.Language
	}
	options, ok := texts[lang]
	if !ok {
		options = texts["en"]
	}
	return options[hash64(seed, b.Number, 3+uint64(n))%uint64(len(options))], true
}

var (
	spanishWords = []string{"hola", "pago", "préstamo", "prestamo", "vence", "su ", "cuota", "saldo", "gracias", "responda", "usted"}
	englishWords = []string{"your", "payment", "due", "the ", "loan", "reply", "please", "hello", "hi "}
)

// DetectLanguage guesses the language of a reminder body: "zh" when it
// contains Han characters, "es" or "en" from common words and Spanish
// letters, "" when it cannot tell.
func DetectLanguage(body string) string {
	for _, r := range body {
		if unicode.Is(unicode.Han, r) {
			return "zh"
		}
	}
	lower := strings.ToLower(body)
	if strings.ContainsAny(lower, "ñ¿¡áéíóú") {
		return "es"
	}
	es, en := 0, 0
	for _, w := range spanishWords {
		if strings.Contains(lower, w) {
			es++
		}
	}
	for _, w := range englishWords {
		if strings.Contains(lower, w) {
			en++
		}
	}
	switch {
	case es > en:
		return "es"
	case en > es:
		return "en"
	}
	return ""
}
