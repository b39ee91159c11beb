package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
)

// MaxVoicemailNameLength is the longest voicemail business or caller name
// accepted, in characters.
const MaxVoicemailNameLength = 64

// e164 is a phone number in E.164 form.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validateLenderVoicemails checks every lender's voicemail settings against
// the limited-content message (12 CFR 1006.2(j)): a business name that does
// not say it collects debts, and, for a lender whose cadences place calls
// (a voice step or fallback), a person to call back and an E.164 number to
// call back. Cadences are the lender's files, or override's sources for it. Every
// problem is reported, each naming its field.
func validateLenderVoicemails(lenders []LenderConfig, override map[string][]cadenceSource, opts []schedules.Option) error {
	var errs []error
	for i, lc := range lenders {
		sources, ok := override[lc.ID]
		if !ok {
			for _, path := range lc.Cadences {
				data, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("lenders[%d].cadences: %w", i, err)
				}
				sources = append(sources, cadenceSource{name: path, data: data})
			}
		}
		errs = append(errs, lc.validateVoicemail(i, cadencesCall(sources, opts)))
	}
	return errors.Join(errs...)
}

// validateVoicemail checks lender i's voicemail settings; calls says whether
// its cadences place calls, which makes the person and the number required.
func (lc LenderConfig) validateVoicemail(i int, calls bool) error {
	field := func(name string) string { return fmt.Sprintf("lenders[%d].%s", i, name) }
	var errs []error
	for _, f := range []struct{ key, value string }{
		{"voicemail_business_name", lc.VoicemailBusinessName}, {"voicemail_caller_name", lc.VoicemailCallerName},
	} {
		if f.value == "" {
			continue
		}
		if w := compliance.DebtWording(f.value); w != "" {
			errs = append(errs, fmt.Errorf("%s: %q names a debt collector (%q); a limited-content voicemail (%s) must not say the business collects debts",
				field(f.key), f.value, w, compliance.RuleLimitedContent))
		}
		if err := voicemailName(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q %w", field(f.key), f.value, err))
		}
	}
	if lc.VoicemailCallerName != "" && strings.ContainsFunc(lc.VoicemailCallerName, unicode.IsDigit) {
		errs = append(errs, fmt.Errorf("%s: %q is not a person's name: it has digits", field("voicemail_caller_name"), lc.VoicemailCallerName))
	}
	if !calls {
		return errors.Join(errs...)
	}
	for _, f := range []struct{ key, value string }{{"help_phone", lc.HelpPhone}, {"agent_phone", lc.AgentPhone}} {
		if f.value != "" && !e164.MatchString(f.value) {
			errs = append(errs, fmt.Errorf("%s: %q is not an E.164 number (+ and up to 15 digits): a call says it digit by digit", field(f.key), f.value))
		}
	}
	name := lc.Name
	if name == "" {
		name = lc.ID
	}
	if w := compliance.DebtWording(name); lc.VoicemailBusinessName == "" && w != "" {
		errs = append(errs, fmt.Errorf("%s: required: the lender's cadences place calls and %s %q names a debt collector (%q), which a limited-content voicemail (%s) must not say",
			field("voicemail_business_name"), field("name"), name, w, compliance.RuleLimitedContent))
	}
	if lc.VoicemailCallerName == "" {
		errs = append(errs, fmt.Errorf("%s: required: the lender's cadences place calls, and a voicemail names a person to call back (%s)",
			field("voicemail_caller_name"), compliance.RuleLimitedContent))
	}
	if lc.HelpPhone == "" && lc.AgentPhone == "" {
		errs = append(errs, fmt.Errorf("%s: required (or agent_phone): the lender's cadences place calls, and a voicemail gives a number to call back (%s)",
			field("help_phone"), compliance.RuleLimitedContent))
	}
	return errors.Join(errs...)
}

// voicemailName checks that s can be said as a name.
func voicemailName(s string) error {
	switch {
	case strings.TrimSpace(s) != s:
		return errors.New("has leading or trailing spaces")
	case utf8.RuneCountInString(s) > MaxVoicemailNameLength:
		return fmt.Errorf("is longer than %d characters", MaxVoicemailNameLength)
	case !strings.ContainsFunc(s, unicode.IsLetter):
		return errors.New("has no letters")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '@' || r == '/' || r == '{' || r == '}' }):
		return errors.New("is not a name (control characters, @, / or braces)")
	}
	return nil
}

// cadencesCall reports whether any of the cadences has a step, regular or
// after a broken promise, that calls (voice) or falls back to a call. A
// source that does not parse is left for syncLenders to report.
func cadencesCall(sources []cadenceSource, opts []schedules.Option) bool {
	for _, src := range sources {
		c, err := schedules.Parse(src.name, src.data, opts...)
		if err != nil {
			continue
		}
		for _, steps := range [][]schedules.Step{c.Steps, c.BrokenPromise} {
			for _, st := range steps {
				if st.Channel == nudge.Voice || st.Fallback == nudge.Voice {
					return true
				}
			}
		}
	}
	return false
}
