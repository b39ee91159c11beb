package borrower_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/payment"
)

// ssPlans are the test lender's plan rules: today (2026-06-01) the latest
// date is 2026-07-31.
var ssPlans = nudge.PlanRules{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60}

const ssPayURL = "https://pay.acme.example/pay?ref={account}&amount={amount}&c={currency}"

// setPayments gives lender acme a payment link and plan rules.
func (b *ssBundle) setPayments(t *testing.T, url string, rules nudge.PlanRules) {
	t.Helper()
	ctx := context.Background()
	l, err := b.db.GetLender(ctx, "acme")
	require.NoError(t, err)
	l.PaymentURL, l.Plans = url, rules
	require.NoError(t, b.db.UpsertLender(ctx, l))
}

var ssPayHref = regexp.MustCompile(`id="pay-now" href="([^"]+)"`)

// TestSelfServicePayButton: with the lender's link, "Pay now" comes first,
// before every form, linking to the portal with each value percent-encoded
// (an account id cannot add a parameter); without one there is no button.
func TestSelfServicePayButton(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	ctx := context.Background()
	page := b.do(t, "GET", b.token(), nil, "").Body.String()
	require.NotContains(t, page, `id="pay-now"`, "no link, no button")

	b.setPayments(t, ssPayURL, ssPlans)
	odd := nudge.Account{ID: "L 7&admin=1#x", Lender: "acme", Borrower: nudge.Borrower{Language: "en", Timezone: "America/New_York"},
		Contacts: []nudge.Contact{{Channel: nudge.SMS, Address: ssNumber, Consent: true}},
		Currency: "USD", AmountDue: "412.50", DueDate: nudge.MustDate("2026-06-04"), Status: nudge.StatusActive}
	require.NoError(t, b.db.UpsertAccounts(ctx, []nudge.Account{odd}, ssT0))
	rec := b.do(t, "GET", b.token(func(l *link.Link) { l.AccountID = odd.ID }), nil, "")
	require.Equal(t, http.StatusOK, rec.Code)
	page = rec.Body.String()
	m := ssPayHref.FindStringSubmatch(page)
	require.NotNil(t, m, page)
	require.Equal(t, "https://pay.acme.example/pay?ref=L%207%26admin%3D1%23x&amp;amount=412.50&amp;c=USD", m[1])
	pay := strings.Index(page, `id="pay-now"`)
	for _, form := range []string{`id="plan-form"`, `id="promise-form"`, `id="paid-form"`, `id="stop-form"`} {
		require.Less(t, pay, strings.Index(page, form), "Pay now comes before %s", form)
	}
	require.Contains(t, page, "You will go to the secure payment page of ACME Auto.")
}

// TestSelfServicePlanErrors posts plans the rules refuse: each error names
// its field in the borrower's language and nothing is recorded.
func TestSelfServicePlanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, language string
		amountDue      string
		count, first   string
		field, want    string
	}{
		{name: "no count", language: "en", first: "2026-06-08", field: "plan-count-error", want: "Choose the number of payments."},
		{name: "more than the rules allow", language: "en", count: "9", first: "2026-06-08", field: "plan-count-error", want: "Choose the number of payments."},
		{name: "first date past the horizon", language: "en", count: "2", first: "2026-08-15", field: "plan-first-error",
			want: "Choose a first payment date from June 1, 2026 to July 31, 2026."},
		{name: "first date in the past", language: "en", count: "2", first: "2026-05-30", field: "plan-first-error",
			want: "Choose a first payment date from June 1, 2026 to July 31, 2026."},
		{name: "last payment past the horizon", language: "en", count: "4", first: "2026-07-01", field: "plan-first-error",
			want: "With 4 payments the last one would be after July 31, 2026. Choose an earlier first date or fewer payments."},
		{name: "below the minimum", language: "en", amountDue: "150.00", count: "4", first: "2026-06-08", field: "plan-count-error",
			want: "Each payment must be at least $50.00. Choose fewer payments."},
		{name: "Spanish", language: "es", count: "4", first: "2026-07-01", field: "plan-first-error",
			want: "Con 4 pagos, el último sería después del 31 de julio de 2026."},
		{name: "Chinese", language: "zh-CN", count: "2", first: "2026-08-15", field: "plan-first-error",
			want: "请选择2026年6月1日至2026年7月31日之间的首期还款日期。"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := ssSetup(t, tc.language)
			b.setPayments(t, "", ssPlans)
			if tc.amountDue != "" {
				a, err := b.db.GetAccount(context.Background(), "acme", "A-1")
				require.NoError(t, err)
				a.AmountDue = tc.amountDue
				require.NoError(t, b.db.UpsertAccounts(context.Background(), []nudge.Account{a}, ssT0))
			}
			token := b.token()
			form := b.fresh(t, token, "plan_preview")
			form.Set("count", tc.count)
			form.Set("first", tc.first)
			rec := b.do(t, "POST", token, form, "")
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
			page := rec.Body.String()
			require.Regexp(t, `id="`+tc.field+`">[^<]*`+regexp.QuoteMeta(htmlEscape(tc.want)), page)
			require.NotContains(t, page, `id="plan-confirm"`, "no plan to confirm")

			// The confirm form, altered to the same plan, is refused the same way.
			form.Set("action", "plan")
			form.Set("csrf", ssForm(t, page, "plan_preview").Get("csrf"))
			rec = b.do(t, "POST", token, form, "")
			require.Equal(t, http.StatusForbidden, rec.Code, "a CSRF token binds its action")
			b.requireUnchanged(t)
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestSelfServicePlanAndReturn picks a 3-payment plan through the preview
// and the confirmation; a return visit shows the plan with each payment's
// status instead of the forms, and a payment received shows as paid.
func TestSelfServicePlanAndReturn(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "en")
	b.setPayments(t, ssPayURL, ssPlans)
	ctx := context.Background()
	token := b.token()
	form := b.fresh(t, token, "plan_preview")
	form.Set("count", "3")
	form.Set("first", "2026-06-08")
	rec := b.do(t, "POST", token, form, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	page := rec.Body.String()
	for _, want := range []string{"June 8, 2026", "June 22, 2026", "July 6, 2026", "$137.50", "Confirm this plan"} {
		require.Contains(t, page, want)
	}
	b.requireUnchanged(t)

	confirm := ssForm(t, page, "plan")
	confirm.Set("count", "3")
	confirm.Set("first", "2026-06-08")
	rec = b.do(t, "POST", token, confirm, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "Your plan of 3 payments is set.")
	again := b.do(t, "POST", token, confirm, "")
	require.Equal(t, http.StatusOK, again.Code, "a resubmitted form is harmless")
	ps, err := b.db.ListPromises(ctx, "acme", "A-1")
	require.NoError(t, err)
	require.Len(t, ps, 3, "the plan is recorded once")
	for _, p := range ps {
		require.NotEmpty(t, p.PlanID)
		require.Equal(t, "137.50", p.Amount)
	}
	b.requirePaused(t, nudge.ReasonPromiseActive)

	page = b.do(t, "GET", token, nil, "").Body.String()
	require.Contains(t, page, `id="plan-state"`)
	require.Equal(t, 3, strings.Count(page, `<td class="pending">Due</td>`), page)
	for _, gone := range []string{`id="plan-form"`, `id="promise-form"`, `id="paid-form"`} {
		require.NotContains(t, page, gone, "a return visit does not offer the same choices again")
	}
	require.Contains(t, page, `id="stop-form"`, "stopping is always offered")
	m := ssPayHref.FindStringSubmatch(page)
	require.NotNil(t, m)
	require.Contains(t, m[1], "amount=137.50", "Pay now asks for the next payment")

	a, err := b.db.GetAccount(ctx, "acme", "A-1")
	require.NoError(t, err)
	_, err = payment.Post(ctx, b.db, b.enq, a, nudge.Payment{ID: "pp-1", Amount: "137.50", Source: nudge.PaymentSourceWebhook}, ssT0)
	require.NoError(t, err)
	page = b.do(t, "GET", token, nil, "").Body.String()
	require.Contains(t, page, `<td class="kept">Paid</td>`)
	require.Equal(t, 2, strings.Count(page, `<td class="pending">Due</td>`))
}

// TestSelfServicePaidReturn: after "I already paid" a return visit says the
// payment is being checked and offers no promise, plan or pay button.
func TestSelfServicePaidReturn(t *testing.T) {
	t.Parallel()
	b := ssSetup(t, "es")
	b.setPayments(t, ssPayURL, ssPlans)
	token := b.token()
	rec := b.do(t, "POST", token, b.fresh(t, token, "paid"), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	page := b.do(t, "GET", token, nil, "").Body.String()
	require.Contains(t, page, `id="checking"`)
	require.Contains(t, page, "Estamos verificando su pago")
	for _, gone := range []string{`id="pay-now"`, `id="plan-form"`, `id="promise-form"`, `id="paid-form"`} {
		require.NotContains(t, page, gone)
	}
}
