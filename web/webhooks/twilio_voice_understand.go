package webhooks

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/reply"
)

// spoke reports whether the answer at this step was speech (not keys) that
// was read with package reply.
func (c *voiceCall) spoke(speech string) bool {
	return speech != "" && c.form.Get("Digits") == ""
}

func (c *voiceCall) callKey() string {
	if c.sid != "" {
		return c.sid
	}
	return c.att.ID
}

func (c *voiceCall) maxDays() int {
	if c.profile == nil || c.profile.MaxPromiseDays <= 0 {
		return reply.DefaultMaxPromiseDays
	}
	return c.profile.MaxPromiseDays
}

// understand maps keys or speech at a step onto an intent, with menu giving
// the step's keys. Speech is read with package reply; "yes" and "no" words
// are recognised first (reply would take a lone YES as an opt-in keyword).
func (c *voiceCall) understand(digits, speech string, menu map[string]reply.MenuOption) nudge.Intent {
	_, intent := c.understandFull(digits, speech, menu)
	return intent
}

func (c *voiceCall) understandFull(digits, speech string, menu map[string]reply.MenuOption) (reply.Result, nudge.Intent) {
	if digits != "" {
		opt, ok := menu[digits]
		if !ok {
			return reply.Result{}, ""
		}
		return reply.Result{Intent: opt.Intent, Date: opt.Date}, opt.Intent
	}
	if speech == "" {
		return reply.Result{}, ""
	}
	res, intent := c.understandSpeech(speech, menu)
	c.heard = res
	return res, intent
}

func (c *voiceCall) understandSpeech(speech string, menu map[string]reply.MenuOption) (reply.Result, nudge.Intent) {
	switch yesNo(speech) {
	case "yes":
		return reply.Result{}, intentYes
	case "no":
		if _, ok := menu["2"]; ok && menu["2"].Intent == nudge.IntentWrongNumber {
			return reply.Result{}, nudge.IntentWrongNumber // "no" at the identity check
		}
		return reply.Result{}, "no"
	}
	res := reply.Parse(speech, c.replyContext(menu))
	switch res.Intent {
	case nudge.IntentUnknown, nudge.IntentHelp, nudge.IntentOptIn:
		return res, ""
	case nudge.IntentPromise:
		if res.Past || res.TooFar || res.Date.IsZero() {
			return res, ""
		}
	}
	return res, res.Intent
}

func (c *voiceCall) replyContext(menu map[string]reply.MenuOption) reply.Context {
	rc := reply.Context{
		Now: c.now, Location: c.loc, Language: c.account.Borrower.Language, AmountDue: c.account.AmountDue,
		Currency: c.account.Currency, MaxPromiseDays: c.maxDays(), Menu: menu, Channel: nudge.Voice,
	}
	if c.account.Address != nil {
		rc.Country = c.account.Address.Country
	}
	return rc
}

// spokenDate reads a date said at the date step ("December 5th", "mañana",
// "12月5日"), as a promise in the borrower's language.
func (c *voiceCall) spokenDate(speech string) (nudge.Date, string, bool) {
	rc := c.replyContext(nil)
	for _, text := range []string{speech, "I will pay " + speech, "pagaré " + speech, "我" + speech + "还款"} {
		res := reply.Parse(text, rc)
		if res.Intent == nudge.IntentPromise && !res.Date.IsZero() {
			return res.Date, res.Amount, true
		}
	}
	return nudge.Date{}, "", false
}

// keypadDate reads four keys, month then day, as the next such date on or
// after today.
func keypadDate(digits string, today nudge.Date) (nudge.Date, bool) {
	if len(digits) != 4 {
		return nudge.Date{}, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return nudge.Date{}, false
	}
	month, day := n/100, n%100
	for _, year := range []int{today.Year, today.Year + 1} {
		t := time.Date(year, time.Month(month), day, 12, 0, 0, 0, time.UTC)
		if t.Month() != time.Month(month) || t.Day() != day || month < 1 || month > 12 {
			continue // 0230, 1301: no such date (in this year)
		}
		if d := nudge.DateOf(t); !d.Before(today) {
			return d, true
		}
	}
	return nudge.Date{}, false
}

var (
	yesWords = map[string]bool{
		"yes": true, "yeah": true, "yep": true, "yup": true, "sure": true, "ok": true, "okay": true, "correct": true,
		"right": true, "that's me": true, "thats me": true, "it's me": true, "its me": true, "speaking": true, "yes it is": true, "i am": true,
		"yes please": true, "yes that's me": true, "sí": true, "si": true, "claro": true, "correcto": true, "soy yo": true, "así es": true,
		"sí soy yo": true, "si soy yo": true, "是": true, "是的": true, "是我": true, "对": true, "对的": true, "好": true,
		"好的": true, "可以": true, "本人": true, "我是": true, "嗯": true,
	}
	noWords = map[string]bool{
		"no": true, "nope": true, "nah": true, "no thanks": true, "no gracias": true, "不": true, "不是": true, "不对": true, "不要": true,
	}
)

// yesNo reports whether speech is a plain yes or no ("Yes.", "sí", "是的").
func yesNo(speech string) string {
	s := strings.ToLower(strings.TrimFunc(strings.TrimSpace(speech), func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	}))
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == ',' || r == '，' || r == '。' || r == '!' || r == '！' {
			return ' '
		}
		return r
	}, s)), " ")
	switch {
	case yesWords[s]:
		return "yes"
	case noWords[s]:
		return "no"
	}
	return ""
}
