package response

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/templates"
)

// Confirmations this package sends besides those of the default pack.
const (
	// OptOutChannelsSMS names the text confirming a revocation of calls or
	// emails sent by text ("stop calling me"), which leaves texts allowed;
	// its Extra keys "calls" and "emails" are non-empty for the channels
	// revoked.
	OptOutChannelsSMS = "optout_channels_confirm_sms"
	// DateConfirmSMS names the text that asks the borrower which date they
	// meant when a numeric date reads two ways and the borrower's reading is
	// past (reply.Result.Ambiguous). PromiseDate is the other reading, or
	// zero when that one is past too.
	DateConfirmSMS = "promise_date_confirm_sms"
)

//go:embed confirmations
var confirmationsFS embed.FS

// confirmations is the default pack overlaid with this package's
// confirmations, used for a template the handler's pack lacks.
var confirmations = sync.OnceValues(func() (*templates.Pack, error) {
	sub, err := fs.Sub(confirmationsFS, "confirmations")
	if err != nil {
		return nil, err
	}
	return templates.LoadFS(sub, "response/confirmations")
})

// packFor returns the pack that has template name: the handler's, else the
// default pack overlaid with this package's confirmations.
func (h *Handler) packFor(name string) (*templates.Pack, error) {
	if h.Pack != nil && h.Pack.Has(name, nudge.SMS) {
		return h.Pack, nil
	}
	p, err := confirmations()
	if err != nil {
		return nil, fmt.Errorf("response confirmations: %w", err)
	}
	return p, nil
}

// optOutConfirmation chooses the confirmation of a revocation of chs
// received on channel: the usual opt-out confirmation when the channel it
// came on is revoked, else one naming the calls or emails that stop.
func optOutConfirmation(channel nudge.ChannelKind, chs []nudge.ChannelKind) (string, templates.Data) {
	if slices.Contains(chs, channel) || len(chs) == 0 {
		return templates.OptOutConfirmSMS, templates.Data{}
	}
	extra := map[string]string{"calls": "", "emails": ""}
	if slices.Contains(chs, nudge.Voice) {
		extra["calls"] = "yes"
	}
	if slices.Contains(chs, nudge.Email) {
		extra["emails"] = "yes"
	}
	return OptOutChannelsSMS, templates.Data{Extra: extra}
}
