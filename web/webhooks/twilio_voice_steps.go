package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/reply"
	"github.com/nudgehq/nudge/response"
	"github.com/nudgehq/nudge/templates"
)

func (t *TwilioVoice) identity(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	intent := c.understand(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: intentYes}, "2": {Intent: nudge.IntentWrongNumber}, "9": {Intent: nudge.IntentOptOut},
	})
	switch intent {
	case intentYes:
		if _, err := t.Store.UpdateAttempt(ctx, c.att.ID, nudge.AttemptUpdate{Conversation: true, At: c.now}); err != nil {
			return nil, fmt.Errorf("recording the conversation: %w", err)
		}
		parts, err := t.render(c)
		if err != nil {
			return nil, err
		}
		return append([]twiml.Element{c.say(parts[templates.PartMessage])}, c.ask(t, StepMenu, 0, nil, 1, parts[templates.PartMenu])...), nil
	case nudge.IntentWrongNumber:
		return t.finish(ctx, c, nudge.IntentWrongNumber, StepIdentity, digits, speech, templates.PartWrongParty)
	case nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepIdentity, digits, speech, templates.PartConfirmOptOut)
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	return t.retry(ctx, c, StepIdentity, try, nil, 1, parts, parts[templates.PartGreeting], digits, speech)
}

func (t *TwilioVoice) menu(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	res, intent := c.understandFull(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: nudge.IntentPromise, Date: c.data.PromiseDate}, "2": {Intent: intentChooseDate},
		"3": {Intent: nudge.IntentPaid}, "4": {Intent: nudge.IntentTalkToPerson}, "9": {Intent: nudge.IntentOptOut},
	})
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	switch {
	case intent == nudge.IntentPromise && digits == "1":
		return t.finish(ctx, c, nudge.IntentPromise, StepMenu, digits, speech, templates.PartConfirmPromise)
	case intent == nudge.IntentPromise:
		// A spoken promise is read back before it is recorded.
		return t.readBack(c, res.Date, res.Amount)
	case intent == intentYes:
		return t.readBack(c, c.data.PromiseDate, "")
	case intent == intentChooseDate:
		return c.ask(t, StepDate, 0, nil, 4, parts[templates.PartAskDate]), nil
	case intent == nudge.IntentPaid:
		return t.finish(ctx, c, nudge.IntentPaid, StepMenu, digits, speech, templates.PartConfirmPaid)
	case intent == nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepMenu, digits, speech, templates.PartConfirmOptOut)
	case intent == nudge.IntentWrongNumber:
		return t.finish(ctx, c, nudge.IntentWrongNumber, StepMenu, digits, speech, templates.PartWrongParty)
	case intent == nudge.IntentTalkToPerson:
		return t.transfer(ctx, c, digits, speech, parts)
	}
	return t.retry(ctx, c, StepMenu, try, nil, 1, parts, parts[templates.PartMenu], digits, speech)
}

func (t *TwilioVoice) date(ctx context.Context, c *voiceCall, digits, speech string, try int) ([]twiml.Element, error) {
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	var (
		d      nudge.Date
		amount string
		ok     bool
	)
	switch {
	case digits != "":
		d, ok = keypadDate(digits, c.today)
	case speech != "":
		if d, amount, ok = c.spokenDate(speech); !ok {
			// Not a date: words that revoke consent are honoured here too.
			if c.understandFull("", speech, nil); c.heard.Intent == nudge.IntentOptOut {
				return t.finish(ctx, c, nudge.IntentOptOut, StepDate, digits, speech, templates.PartConfirmOptOut)
			}
		}
	}
	if !ok {
		return t.retry(ctx, c, StepDate, try, nil, 4, parts, parts[templates.PartAskDate], digits, speech)
	}
	if d.DaysSince(c.today) > c.maxDays() {
		p := c.phrases()
		limit, err := c.formatDate(c.today.AddDays(c.maxDays()))
		if err != nil {
			return nil, err
		}
		return append([]twiml.Element{c.say(fmt.Sprintf(p.tooFar, limit))}, c.ask(t, StepDate, try, nil, 4, parts[templates.PartAskDate])...), nil
	}
	return t.readBack(c, d, amount)
}

func (t *TwilioVoice) confirm(ctx context.Context, c *voiceCall, q url.Values, digits, speech string, try int) ([]twiml.Element, error) {
	d, err := nudge.ParseDate(q.Get("date"))
	if err != nil {
		return nil, fmt.Errorf("confirm step: date in the URL: %w", err)
	}
	amount := q.Get("amount")
	intent := c.understand(digits, speech, map[string]reply.MenuOption{
		"1": {Intent: intentYes}, "2": {Intent: intentChooseDate}, "9": {Intent: nudge.IntentOptOut},
	})
	switch intent {
	case intentYes:
		c.data.PromiseDate = d
		if amount != "" {
			c.data.PromiseAmount = amount
		}
		return t.finishPromise(ctx, c, "confirm/"+d.String()+"/"+amount, digits, speech, d, amount)
	case intentChooseDate, "no":
		parts, err := t.render(c)
		if err != nil {
			return nil, err
		}
		return c.ask(t, StepDate, 0, nil, 4, parts[templates.PartAskDate]), nil
	case nudge.IntentOptOut:
		return t.finish(ctx, c, nudge.IntentOptOut, StepConfirm, digits, speech, templates.PartConfirmOptOut)
	}
	extra := url.Values{"date": {d.String()}}
	if amount != "" {
		extra.Set("amount", amount)
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	prompt, err := c.readBackText(d)
	if err != nil {
		return nil, err
	}
	return t.retry(ctx, c, StepConfirm, try, extra, 1, parts, prompt, digits, speech)
}

// readBack asks the borrower to confirm a promise date (and amount).
func (t *TwilioVoice) readBack(c *voiceCall, d nudge.Date, amount string) ([]twiml.Element, error) {
	if amount == c.account.AmountDue {
		amount = ""
	}
	prompt, err := c.readBackText(d)
	if err != nil {
		return nil, err
	}
	extra := url.Values{"date": {d.String()}}
	if amount != "" {
		extra.Set("amount", amount)
	}
	return c.ask(t, StepConfirm, 0, extra, 1, prompt), nil
}

// finish applies a final answer and says its confirmation, then goodbye
// where the part does not end the call itself.
func (t *TwilioVoice) finish(ctx context.Context, c *voiceCall, intent nudge.Intent, step, digits, speech, part string) ([]twiml.Element, error) {
	if intent == nudge.IntentPromise {
		return t.finishPromise(ctx, c, step+"/"+c.data.PromiseDate.String(), digits, speech, c.data.PromiseDate, "")
	}
	if err := t.apply(ctx, c, intent, step+"/"+string(intent), digits, speech, nudge.Date{}, ""); err != nil {
		return nil, err
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	verbs := []twiml.Element{c.say(parts[part])}
	if intent == nudge.IntentOptOut && c.spoke(speech) && len(c.heard.Channels) > 0 && !slices.Contains(c.heard.Channels, nudge.Voice) {
		// "Stop texting me", said on a call: the calls go on, the texts stop.
		verbs = []twiml.Element{c.say(c.phrases().optOutOther), c.say(parts[templates.PartGoodbye])}
	}
	if part == templates.PartConfirmPaid {
		verbs = append(verbs, c.say(parts[templates.PartGoodbye]))
	}
	return append(verbs, &twiml.VoiceHangup{}), nil
}

func (t *TwilioVoice) finishPromise(ctx context.Context, c *voiceCall, key, digits, speech string, d nudge.Date, amount string) ([]twiml.Element, error) {
	if err := t.apply(ctx, c, nudge.IntentPromise, key, digits, speech, d, amount); err != nil {
		return nil, err
	}
	c.data.PromiseDate = d
	if amount != "" {
		c.data.PromiseAmount = amount
	}
	parts, err := t.render(c)
	if err != nil {
		return nil, err
	}
	return []twiml.Element{c.say(parts[templates.PartConfirmPromise]), c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}}, nil
}

// apply hands an answer to Answers, keyed by the call and step so a
// repeated webhook applies it once.
func (t *TwilioVoice) apply(ctx context.Context, c *voiceCall, intent nudge.Intent, key, digits, speech string, d nudge.Date, amount string) error {
	body, source := digits, response.SourceVoiceKeypad
	if body == "" {
		body, source = speech, response.SourceVoiceSpeech
	}
	a := response.Answer{
		Account: *c.account, Channel: nudge.Voice, Address: c.att.Address, Intent: intent, Date: d, Amount: amount,
		ProviderID: c.callKey() + "/" + key, Body: body, Source: source,
	}
	if c.spoke(speech) {
		// As the SMS webhook does for a text: what the words revoke and what
		// a person must see first.
		a.Flags = c.heard.Flags
		if intent == nudge.IntentOptOut {
			a.Channels = c.heard.Channels
		}
	}
	_, err := t.Answers.Apply(ctx, a)
	if err != nil {
		return fmt.Errorf("applying %s: %w", intent, err)
	}
	return nil
}

// retry answers no input, or an answer that is not an option at step (a
// key the step does not offer, speech not understood, a date that is not
// one): it says which, and asks again once; the second time it says goodbye
// and hangs up. Speech that was not understood but that a person must see
// (a legal threat, a complaint) is left for a person first.
func (t *TwilioVoice) retry(ctx context.Context, c *voiceCall, step string, try int, extra url.Values, nDigits int, parts map[string]string, prompt, digits, speech string) ([]twiml.Element, error) {
	first := c.say(parts[templates.PartNoInput])
	if digits != "" || speech != "" {
		p := c.phrases()
		first = c.say(p.notOption)
		if step == StepDate {
			first = c.say(p.notDate)
		}
	}
	if c.spoke(speech) && c.heard.Flags.Review() != "" {
		if err := t.apply(ctx, c, nudge.IntentUnknown, fmt.Sprintf("%s/%d/review", step, try), digits, speech, nudge.Date{}, ""); err != nil {
			return nil, err
		}
	}
	if try >= 1 {
		return []twiml.Element{first, c.say(parts[templates.PartGoodbye]), &twiml.VoiceHangup{}}, nil
	}
	return append([]twiml.Element{first}, c.ask(t, step, 1, extra, nDigits, prompt)...), nil
}

// ask is a <Gather> of keys or speech around prompt, followed by a
// <Redirect> to the same step, which Twilio follows when nothing was said.
func (c *voiceCall) ask(t *TwilioVoice, step string, try int, extra url.Values, digits int, prompt string) []twiml.Element {
	q := url.Values{"step": {step}}
	if try > 0 {
		q.Set("try", strconv.Itoa(try))
	}
	for k, v := range extra {
		q[k] = v
	}
	action := twilio.VoiceGatherURL(t.PublicURL, c.token) + "?" + q.Encode()
	return []twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf speech", Action: action, Method: http.MethodPost, NumDigits: strconv.Itoa(digits),
			Timeout: "6", SpeechTimeout: "auto", Language: c.speechLanguage(),
			InnerElements: []twiml.Element{c.say(prompt)},
		},
		&twiml.VoiceRedirect{Url: action, Method: http.MethodPost},
	}
}
