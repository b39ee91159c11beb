package main

import (
	"context"
	"errors"
	"slices"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/link"
	"github.com/nudgehq/nudge/payment"
)

// demoPayments are the demo's US lender's payment settings: a (fictitious)
// payment portal and plans of up to 4 instalments two weeks apart.
var demoPayments = PaymentsConfig{
	URL:   "https://pay.acme.example/pay?ref={account}&amount={amount}&currency={currency}",
	Plans: PlansConfig{MaxInstalments: 4, MinInstalment: "50.00", IntervalDays: 14, MaxDays: 60},
}

// demoBorrowerLink issues the self-service link of one borrower of the
// portfolio a person can try: the first active English-speaking account of
// the US lender with a text contact, no hold and no promise.
func demoBorrowerLink(ctx context.Context, rt *runtime, p demoPortfolio, publicURL string) (string, error) {
	promised := map[string]bool{}
	for _, pr := range p.Promises {
		promised[pr.AccountID] = true
	}
	for _, a := range p.Accounts {
		if a.Lender != demoLenderUS || a.Status != nudge.StatusActive || len(a.Holds) > 0 || promised[a.ID] || a.Borrower.Language != "en" {
			continue
		}
		i := slices.IndexFunc(a.Contacts, func(c nudge.Contact) bool { return c.Channel == nudge.SMS && c.Address != "" })
		if i < 0 {
			continue
		}
		l, err := rt.links.Issue(ctx, link.Link{Purpose: link.SelfService, Lender: a.Lender, AccountID: a.ID,
			Channel: nudge.SMS, Address: a.Contacts[i].Address}, dispatcher.DefaultLinkTTL)
		if err != nil {
			return "", err
		}
		return publicURL + dispatcher.SelfServicePath + l.Token, nil
	}
	return "", errors.New("demo: the portfolio has no active English-speaking borrower with a text contact to show")
}

// demoWebhookSecret gives the demo's US lender a payment webhook secret
// and returns it.
func demoWebhookSecret(ctx context.Context, rt *runtime) (string, error) {
	sealer, err := payment.NewSealer([]byte(rt.cfg.Secret))
	if err != nil {
		return "", err
	}
	secret, err := payment.NewSecret()
	if err != nil {
		return "", err
	}
	sealed, err := sealer.Seal(demoLenderUS, secret)
	if err != nil {
		return "", err
	}
	return secret, rt.db.SetPaymentWebhookSecret(ctx, demoLenderUS, sealed)
}
