package twiliosim_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/channels/twilio"
	"github.com/nudgehq/nudge/channels/twiliosim"
)

const (
	subSID   = "AC5ab00000000000000000000000000000"
	subToken = "subtok3n42"
)

// clientAs is a twilio-go client of account accountSID with password
// token, whose requests go to the simulator.
func (b *bundle) clientAs(t *testing.T, accountSID, token string) *api.ApiService {
	t.Helper()
	target, err := url.Parse(b.server.URL)
	require.NoError(t, err)
	c := &client.Client{
		Credentials: client.NewCredentials(accountSID, token),
		HTTPClient:  &http.Client{Transport: rewrite{target: target}, Timeout: 5 * time.Second},
	}
	c.SetAccountSid(accountSID)
	return api.NewApiServiceWithClient(c)
}

// TestSubaccounts: a subaccount authenticates with its own token, sees
// its own messages only, and its webhooks carry its AccountSid and are
// signed with its token; one account's credentials open no other's path.
func TestSubaccounts(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *twiliosim.Config) { c.Subaccounts = map[string]string{subSID: subToken} })
	const to = "+14155550231"
	b.sim.Script(to, twiliosim.Borrower{Behaviour: twiliosim.BehaviourSilent})
	sub := b.clientAs(t, subSID, subToken)
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(from)
	p.SetBody("Your payment is due.")
	p.SetStatusCallback(b.app.url(twilio.StatusCallbackPath))
	m, err := sub.CreateMessage(p)
	require.NoError(t, err)
	require.Equal(t, subSID, *m.AccountSid)
	require.Equal(t, subSID, b.sim.Requests()[0].Account)
	require.NoError(t, b.sim.Idle(ctx(t)))

	list := &api.ListMessageParams{}
	list.SetTo(to)
	own, err := sub.ListMessage(list)
	require.NoError(t, err)
	require.Len(t, own, 1)
	mainList, err := b.restClient(t).ListMessage(list)
	require.NoError(t, err)
	require.Empty(t, mainList, "the main account does not list a subaccount's messages")

	var signed int
	for _, d := range b.sim.Deliveries() {
		require.Equal(t, subSID, d.Form.Get("AccountSid"))
		require.NoError(t, twilio.ValidateSignature(subToken, d.URL, d.Form, d.Signature))
		require.ErrorIs(t, twilio.ValidateSignature(token, d.URL, d.Form, d.Signature), twilio.ErrBadSignature)
		signed++
	}
	require.Positive(t, signed)

	for _, c := range []struct {
		name        string
		user, pass  string
		pathAccount string
	}{
		{"main credentials on the subaccount's path", sid, token, subSID},
		{"subaccount credentials on the main path", subSID, subToken, sid},
		{"subaccount with the main token", subSID, token, subSID},
	} {
		cl := b.clientAs(t, c.user, c.pass)
		_, err := cl.FetchMessage(*m.Sid, &api.FetchMessageParams{PathAccountSid: &c.pathAccount})
		var rest *client.TwilioRestError
		require.ErrorAs(t, err, &rest, c.name)
		require.Equal(t, 20003, rest.Code, c.name)
	}
}
