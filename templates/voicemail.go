package templates

import (
	"fmt"
	"strings"
)

// BlockVoicemailOptOut names the shared block every locale defines for the
// opt-out instruction of a limited-content voicemail ("If you want us to stop
// calling you, call us at that number and tell us, or press 9 during our next
// call.").
const BlockVoicemailOptOut = "voicemail_optout"

// checkLimitedVoicemail checks that the limited-content voicemail (12 CFR
// 1006.2(j)) rendered with d names the business (Data.BusinessName) and the
// person to call back (Data.CallerName), says the number to call (the agent
// line, else the help line) and carries the locale's opt-out instruction
// (BlockVoicemailOptOut). That it names no debt is checkNoDebt's.
func (p *Pack) checkLimitedVoicemail(l *localized, f *Formatter, d Data) []error {
	pt := l.parts[PartLimitedVoicemail]
	text, err := pt.exec(f, d, "")
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, c := range []struct{ what, want string }{
		{"the business name {{.BusinessName}}", d.BusinessName},
		{"the caller's name {{.CallerName}}", d.CallerName},
	} {
		if !strings.Contains(text, c.want) {
			errs = append(errs, fmt.Errorf("%s: must say %s (%q): a limited-content voicemail names a business and a person to call back", pt.src.origin, c.what, c.want))
		}
	}
	phone := false
	for _, n := range []string{d.AgentPhone, d.HelpPhone} {
		if s, err := f.SpokenDigits(n); err == nil && strings.Contains(text, s) {
			phone = true
		}
	}
	if !phone {
		errs = append(errs, fmt.Errorf("%s: must say the number to call back ({{digits (or .AgentPhone .HelpPhone)}})", pt.src.origin))
	}
	optOut, err := pt.exec(f, d, BlockVoicemailOptOut)
	switch {
	case err != nil || strings.TrimSpace(optOut) == "":
		errs = append(errs, fmt.Errorf("%s: locale %s must define a non-empty {{define %q}} block (in %s/<file>.tmpl): %w",
			pt.src.origin, l.locale, BlockVoicemailOptOut, l.locale, emptyBlock(err)))
	case !strings.Contains(text, optOut):
		errs = append(errs, fmt.Errorf("%s: must carry the opt-out instruction %q ({{template %q .}})", pt.src.origin, optOut, BlockVoicemailOptOut))
	}
	return errs
}
