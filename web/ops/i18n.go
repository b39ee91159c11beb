package ops

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/channels"
	"github.com/nudgehq/nudge/web"
)

// The console is translated gettext-style: the English text in a template
// ({{.T "Log out"}}) or in Go (v.T("Overview"), v.Tf("Account %s", id)) is
// the key, and each language has a catalogue from English to its wording
// (i18n_es.go, i18n_zh.go). Text a catalogue lacks shows in English.
// TestCatalogues reads every template and every Go file of the package and
// fails when a catalogue lacks one of their texts, has one nobody uses, or
// changes a text's %-verbs. To add a language, add a catalogue and its tag
// to opsLocales.

// opsLocales are the console's languages; the first is the fallback.
var opsLocales = []string{"en", "es", "zh-CN"}

// opsLocaleNames name each language in itself, for the language menu.
var opsLocaleNames = map[string]string{"en": "English", "es": "Español", "zh-CN": "简体中文"}

// catalogues hold each language's wording by English text. English has
// none: its text is the key.
var catalogues = map[string]map[string]string{"es": catalogueES, "zh-CN": catalogueZH}

var opsMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(opsLocales))
	for i, l := range opsLocales {
		tags[i] = language.MustParse(l)
	}
	return language.NewMatcher(tags)
}()

// OpsLangCookie remembers the language a user chose from the menu.
const OpsLangCookie = "nudge_ops_lang"

// T returns s, an English text of the console, in the view's language, or
// s itself when that language's catalogue lacks it.
func (v *opsView) T(s string) string {
	if t := catalogues[v.Lang][s]; t != "" {
		return t
	}
	return s
}

// Tf translates format with T and formats args into it.
func (v *opsView) Tf(format string, args ...any) string {
	return fmt.Sprintf(v.T(format), args...)
}

// msg marks s as a text of the console that is translated later, where it
// is shown (for example a table of list titles); it returns s unchanged.
// TestCatalogues collects its argument like T's.
func msg(s string) string { return s }

// enumMessages are the texts the pages translate from stored values
// (statuses, channels, roles, intents, event kinds, error-code
// meanings…), as {{.T (print .Status)}} or v.T(string(s)): TestCatalogues
// checks them like the literal ones.
func enumMessages() []string {
	var out []string
	add := func(vs ...string) { out = append(out, vs...) }
	for _, c := range nudge.Channels {
		add(string(c))
	}
	for _, s := range statusOrder {
		add(string(s))
	}
	for _, s := range []nudge.ReminderStatus{nudge.ReminderPlanned, nudge.ReminderQueued, nudge.ReminderDeferred, nudge.ReminderSent,
		nudge.ReminderSuppressed, nudge.ReminderExpired, nudge.ReminderCanceled, nudge.ReminderFailed, nudge.ReminderUnknown} {
		add(string(s))
	}
	for _, r := range []nudge.Role{nudge.RoleAdmin, nudge.RoleOperator, nudge.RoleViewer} {
		add(string(r))
	}
	for _, i := range []nudge.Intent{nudge.IntentOptOut, nudge.IntentOptIn, nudge.IntentHelp, nudge.IntentPromise, nudge.IntentPaid,
		nudge.IntentWrongNumber, nudge.IntentTalkToPerson, nudge.IntentUnknown, nudge.IntentLegalThreat, nudge.IntentComplaint,
		nudge.IntentCeaseCommunication} {
		add(string(i))
	}
	for _, k := range []nudge.EventKind{nudge.EventPlanned, nudge.EventEnqueued, nudge.EventDecision, nudge.EventAttempt,
		nudge.EventCallback, nudge.EventReply, nudge.EventPromise, nudge.EventOptOut, nudge.EventPayment, nudge.EventHold,
		nudge.EventCanceled, nudge.EventExpired, nudge.EventOverride, nudge.EventReconcile, nudge.EventPause} {
		add(string(k))
	}
	for _, s := range []nudge.PromiseStatus{nudge.PromisePending, nudge.PromiseKept, nudge.PromiseBroken} {
		add(string(s))
	}
	for _, s := range []nudge.AccountStatus{nudge.StatusActive, nudge.StatusPaid, nudge.StatusClosed, nudge.StatusChargedOff} {
		add(string(s))
	}
	for _, s := range []nudge.PauseScope{nudge.PauseLender, nudge.PauseCadence, nudge.PauseChannel} {
		add(string(s))
	}
	// Decision actions, and the timeline's own kind for reminders.
	add("send", "suppress", "defer", "reminder")
	// Provider error codes' meanings, shown with the code (errmeaning).
	for _, c := range channels.ErrorCodes() {
		add(c.Meaning)
	}
	return out
}

// langChoice is one entry of the language menu.
type langChoice struct {
	Tag, Name, URL string
	Current        bool
}

// pickLang chooses the page's language: the user's choice from the menu
// (the lang query parameter, remembered in OpsLangCookie), else the
// lender's language, so that headings match the explanations Nudge writes
// in it, else the browser's Accept-Language, else English.
func pickLang(r *http.Request, lender string) string {
	var prefs []string
	if l := r.URL.Query().Get("lang"); l != "" {
		prefs = append(prefs, l)
	}
	if c, err := r.Cookie(OpsLangCookie); err == nil {
		prefs = append(prefs, c.Value)
	}
	prefs = append(prefs, lender)
	var tags []language.Tag
	for _, p := range prefs {
		if t, err := language.Parse(p); err == nil && p != "" {
			tags = append(tags, t)
		}
	}
	if al, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		tags = append(tags, al...)
	}
	for _, t := range tags {
		if _, i, conf := opsMatcher.Match(t); conf != language.No {
			return opsLocales[i]
		}
	}
	return opsLocales[0]
}

// chosenLang returns the supported language the lang query parameter
// names, or "".
func chosenLang(r *http.Request) string {
	l := r.URL.Query().Get("lang")
	if l == "" {
		return ""
	}
	t, err := language.Parse(l)
	if err != nil {
		return ""
	}
	if _, i, conf := opsMatcher.Match(t); conf == language.Exact || conf == language.High {
		return opsLocales[i]
	}
	return ""
}

// langMenu links the page to itself in each language; the answer to a
// form (a POST) links to the login form or the overview instead.
func langMenu(r *http.Request, current string) []langChoice {
	out := make([]langChoice, len(opsLocales))
	for i, l := range opsLocales {
		path := web.OpsPath + "/"
		if r.URL.Path == web.OpsPath+"/login" {
			path = r.URL.Path
		}
		u := url.URL{Path: path, RawQuery: url.Values{"lang": {l}}.Encode()}
		if r.Method == http.MethodGet {
			q := r.URL.Query()
			q.Set("lang", l)
			u = url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		}
		out[i] = langChoice{Tag: l, Name: opsLocaleNames[l], URL: u.String(), Current: l == current}
	}
	return out
}

// Time formats t in the lender's time zone, with the zone's abbreviation.
func (v *opsView) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.loc()).Format("2006-01-02 15:04 MST")
}

// Duration says d in words in the view's language: "3 days", "2 hours",
// "45 seconds". It picks the largest unit that says d without a fraction,
// or the largest one that fits twice, rounded.
func (v *opsView) Duration(d time.Duration) string {
	units := []struct {
		size      time.Duration
		one, many string
	}{
		{24 * time.Hour, msg("%d day"), msg("%d days")},
		{time.Hour, msg("%d hour"), msg("%d hours")},
		{time.Minute, msg("%d minute"), msg("%d minutes")},
		{time.Second, msg("%d second"), msg("%d seconds")},
	}
	if d < 0 {
		d = -d
	}
	for i, u := range units {
		if i == len(units)-1 || d >= 2*u.size || (d >= u.size && d%u.size == 0) {
			n := int64((d + u.size/2) / u.size)
			if n == 1 {
				return v.Tf(u.one, n)
			}
			return v.Tf(u.many, n)
		}
	}
	return ""
}

// OrList says a comma-separated list of stored values (statuses) as
// alternatives in the view's language: "failed or undelivered".
func (v *opsView) OrList(s string) string {
	var out string
	for i, part := range strings.Split(s, ",") {
		part = v.T(strings.TrimSpace(part))
		if i == 0 {
			out = part
		} else {
			out = v.Tf("%s or %s", out, part)
		}
	}
	return out
}

// ZoneName names the lender's time zone (an IANA name such as
// America/New_York).
func (v *opsView) ZoneName() string { return v.loc().String() }

func (v *opsView) loc() *time.Location {
	if v.Zone == nil {
		return time.UTC
	}
	return v.Zone
}
