package schedules

import (
	"slices"

	"github.com/nudgehq/nudge"
)

// packTemplates is the template pack the templates package ships by default,
// by channel; the tests check cadences against it.
var packTemplates = map[nudge.ChannelKind][]string{
	nudge.SMS:   {"predue_sms", "due_sms", "late_sms", "late_firm_sms", "broken_promise_sms"},
	nudge.Email: {"due_email", "late_email"},
	nudge.Voice: {"late_voice"},
}

// fakePack is a hand-written Templates over packTemplates.
type fakePack map[nudge.ChannelKind][]string

func (p fakePack) Has(name string, ch nudge.ChannelKind) bool { return slices.Contains(p[ch], name) }

var _ Templates = fakePack(nil)

// strictOpts are the options the CLI uses: the default pack and the us, cn
// and acme-strict profiles.
func strictOpts() []Option {
	return []Option{WithTemplates(fakePack(packTemplates)), WithProfileNames("us", "cn", "acme-strict")}
}
