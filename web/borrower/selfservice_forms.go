package borrower

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/bojanz/currency"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/response"
)

// promise records a promise to pay, or answers 422 with the form's errors.
func (p *SelfService) promise(ctx context.Context, q *ssRequest, nonce string, r *http.Request, v *ssView) (int, error) {
	if !v.Active {
		return http.StatusConflict, nil
	}
	v.Date, v.Amount = strings.TrimSpace(r.PostForm.Get("date")), strings.TrimSpace(r.PostForm.Get("amount"))
	date, amount, errs := p.checkPromise(q, v.Date, v.Amount)
	if len(errs) > 0 {
		v.Errors = errs
		return http.StatusUnprocessableEntity, nil
	}
	if _, err := p.Answers.Apply(ctx, response.Answer{Account: q.acct, Channel: q.link.Channel, Address: q.link.Address,
		Intent: nudge.IntentPromise, Date: date, Amount: amount, ProviderID: providerID(q, ActionPromise, nonce),
		Body: "self-service page: promise", Source: response.SourceWeb}); err != nil {
		return 0, err
	}
	money, _ := q.f.Money(amount, q.acct.Currency)
	day, _ := q.f.Date(date)
	v.Notice = fmt.Sprintf(q.t.DonePromise, money, day)
	p.logger().Info("self-service promise", "lender", q.acct.Lender, "account", q.acct.ID, "due", date.String(), "amount", amount)
	return http.StatusOK, nil
}

// paid records that the borrower says they have paid.
func (p *SelfService) paid(ctx context.Context, q *ssRequest, nonce string, v *ssView) (int, error) {
	if !v.Active {
		return http.StatusConflict, nil
	}
	if _, err := p.Answers.Apply(ctx, response.Answer{Account: q.acct, Channel: q.link.Channel, Address: q.link.Address,
		Intent: nudge.IntentPaid, ProviderID: providerID(q, ActionPaid, nonce), Body: "self-service page: already paid",
		Source: response.SourceWeb}); err != nil {
		return 0, err
	}
	v.Notice = q.t.DonePaid
	p.logger().Info("self-service claimed payment", "lender", q.acct.Lender, "account", q.acct.ID)
	return http.StatusOK, nil
}

// stop opts the chosen contacts out.
func (p *SelfService) stop(ctx context.Context, q *ssRequest, nonce string, r *http.Request, v *ssView) (int, error) {
	chosen := map[string]bool{}
	for _, s := range r.PostForm["stop"] {
		chosen[s] = true
	}
	var picked []ssStop
	for i, s := range v.Stops {
		v.Stops[i].Checked = chosen[s.Value]
		if chosen[s.Value] && !s.Done {
			picked = append(picked, s)
		}
	}
	if len(picked) == 0 {
		v.Errors = map[string]string{"stop": q.t.ErrStopNone}
		return http.StatusUnprocessableEntity, nil
	}
	for _, s := range picked {
		if _, err := p.Answers.Apply(ctx, response.Answer{Account: q.acct, Channel: s.channel, Address: s.address,
			Intent: nudge.IntentOptOut, ProviderID: providerID(q, ActionStop+":"+s.Value, nonce), Body: "self-service page: stop",
			Source: response.SourceWeb}); err != nil {
			return 0, err
		}
		p.logger().Info("self-service opt-out", "lender", q.acct.Lender, "account", q.acct.ID, "channel", s.channel,
			"address", channels.Mask(s.address))
	}
	v.Notice = q.t.DoneStop
	return http.StatusOK, nil
}

// providerID is the idempotency key of an answer: the same form submitted
// again is recognised and changes nothing more.
func providerID(q *ssRequest, action, nonce string) string {
	return "web:" + q.link.Lender + ":" + q.link.AccountID + ":" + action + ":" + nonce
}

// formAmountPattern matches a plain decimal amount typed into the form.
var formAmountPattern = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]+)?$`)

// checkPromise validates the promise form and returns the date, the amount
// as a decimal string, and the errors by field.
func (p *SelfService) checkPromise(q *ssRequest, dateIn, amountIn string) (nudge.Date, string, map[string]string) {
	errs := map[string]string{}
	first, _ := q.f.Date(q.today)
	last, _ := q.f.Date(q.last)
	var date nudge.Date
	switch d, err := nudge.ParseDate(dateIn); {
	case dateIn == "" || err != nil:
		errs["date"] = q.t.ErrDate
	case d.Before(q.today) || d.After(q.last):
		errs["date"] = fmt.Sprintf(q.t.ErrDateRange, first, last)
	default:
		date = d
	}
	code := q.acct.Currency
	digits, ok := currency.GetDigits(code)
	if !ok {
		digits = 2
	}
	example, _ := q.f.Money(q.acct.AmountDue, code)
	if example == "" {
		example = q.acct.AmountDue
	}
	limit, maxText := p.maxAmount(q)
	amount := normaliseAmount(amountIn)
	switch {
	case !formAmountPattern.MatchString(amount):
		errs["amount"] = fmt.Sprintf(q.t.ErrAmount, example)
	case fractionDigits(amount) > int(digits):
		errs["amount"] = fmt.Sprintf(q.t.ErrAmount, example)
	default:
		a, err := currency.NewAmount(amount, code)
		if err != nil {
			errs["amount"] = fmt.Sprintf(q.t.ErrAmount, example)
			break
		}
		over := false
		if limit != nil {
			c, err := a.Cmp(*limit)
			over = err != nil || c > 0
		}
		if !a.IsPositive() || over {
			errs["amount"] = fmt.Sprintf(q.t.ErrAmountRange, maxText)
			break
		}
		// Written with the currency's digits: 200 becomes 200.00.
		amount = a.RoundTo(digits, currency.RoundHalfUp).Number()
	}
	if len(errs) > 0 {
		return nudge.Date{}, "", errs
	}
	return date, amount, nil
}

// maxAmount is the largest amount a borrower may promise, and its text.
func (p *SelfService) maxAmount(q *ssRequest) (*currency.Amount, string) {
	due, err := currency.NewAmount(strings.TrimSpace(q.acct.AmountDue), q.acct.Currency)
	if err != nil {
		return nil, q.acct.AmountDue
	}
	limit, err := due.Mul(strconv.Itoa(MaxPromiseFactor))
	if err != nil {
		return nil, q.acct.AmountDue
	}
	text, err := q.f.Money(limit.Number(), q.acct.Currency)
	if err != nil {
		text = limit.Number()
	}
	return &limit, text
}

// normaliseAmount trims the input and reads a lone comma as the decimal
// separator (412,50 as Spanish speakers write it).
func normaliseAmount(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	return s
}

func fractionDigits(s string) int {
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}
