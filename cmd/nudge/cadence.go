package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/templates"
)

func (a *app) cadenceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cadence",
		Short: "Validate, describe and preview cadence files",
	}
	cmd.AddCommand(a.cadenceValidateCmd(), a.cadenceSchemaCmd(), a.cadencePreviewCmd())
	return cmd
}

// packError is a problem of the configuration's template pack.
type packError struct {
	dir string
	err error
}

func (e packError) Error() string { return fmt.Sprintf("template pack %s: %v", e.dir, e.err) }

func (e packError) Unwrap() error { return e.err }

// rules loads the template pack and the compliance profiles the configuration names.
func (a *app) rules(cfg Config) (*templates.Pack, *compliance.Registry, error) {
	pack := templates.Default()
	if cfg.Templates != "" {
		p, err := templates.Load(cfg.Templates)
		if err != nil {
			return nil, nil, packError{dir: cfg.Templates, err: err}
		}
		pack = p
	}
	var profiles []*compliance.Profile
	for _, path := range cfg.Profiles {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("profile: %w", err)
		}
		p, err := compliance.ParseProfile(path, data)
		if err != nil {
			return nil, nil, err
		}
		profiles = append(profiles, p)
	}
	return pack, compliance.NewRegistry(profiles...), nil
}

// parseOptions are the cadence parse options for a pack and registry.
func parseOptions(pack *templates.Pack, reg *compliance.Registry) []schedules.Option {
	return []schedules.Option{
		schedules.WithTemplates(pack),
		schedules.WithProfiles(func(name string) bool { _, err := reg.Lookup(name); return err == nil }),
	}
}

func (a *app) cadenceValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check cadence files; print every problem as file:line:col: message",
		Long: "Check cadence files against the format, the template pack and the compliance profiles. Every problem of every file is printed as file:line:col: message; the exit status is 1 when there is any.\n\n" +
			"The template pack (the default one, overlaid with the configuration's templates directory) is checked first: every SMS template is rendered in every language with long data and must fit its segment budget (pack.yaml). A pack problem is printed as file: message, naming the template and the language.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			pack, reg, err := a.rules(cfg)
			var pe packError
			if errors.As(err, &pe) {
				// Every problem of the lender's pack, one per line; the
				// cadences need a valid pack to be checked against.
				fmt.Fprintln(cmd.ErrOrStderr(), pe.err.Error())
				fmt.Fprintf(cmd.ErrOrStderr(), "template pack %s is invalid: cadence files not checked\n", pe.dir)
				return exitError{1}
			}
			if err != nil {
				return err
			}
			problems := schedules.ValidateFiles(args, parseOptions(pack, reg)...)
			for _, p := range problems {
				fmt.Fprintln(cmd.ErrOrStderr(), p.String())
			}
			if len(problems) > 0 {
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d file(s) valid\n", len(args))
			fmt.Fprintln(cmd.OutOrStdout(), budgetSummary(pack))
			return nil
		},
	}
}

func (a *app) cadenceSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of cadence files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := schedules.Schema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
}

func (a *app) cadencePreviewCmd() *cobra.Command {
	var accountPath, at, lenderName, lenderLang string
	cmd := &cobra.Command{
		Use:   "preview FILE --account ACCOUNT.json [--at RFC3339]",
		Short: "Show every step of a cadence for one account: date, channel, message, segments",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			pack, reg, err := a.rules(cfg)
			if err != nil {
				return err
			}
			c, err := schedules.ParseFile(args[0], parseOptions(pack, reg)...)
			if err != nil {
				return err
			}
			acct, err := readAccount(accountPath)
			if err != nil {
				return err
			}
			now, err := parseAt(at)
			if err != nil {
				return err
			}
			profile, err := reg.Lookup(c.Profile)
			if err != nil {
				return err
			}
			lender := previewLender(cfg, acct.Lender, lenderName, lenderLang, c.Language)
			return preview(cmd.OutOrStdout(), c, pack, profile, acct, now, lender, cfg.PublicURL)
		},
	}
	cmd.Flags().StringVar(&accountPath, "account", "", "account document (JSON, see docs/accounts.md)")
	cmd.Flags().StringVar(&at, "at", "", "the instant to preview at (RFC 3339; default now)")
	cmd.Flags().StringVar(&lenderName, "lender-name", "", "the lender name shown in messages (default: the account's lender)")
	cmd.Flags().StringVar(&lenderLang, "lender-language", "", "the lender's default language (default: the cadence's)")
	_ = cmd.MarkFlagRequired("account")
	return cmd
}

// Placeholders the preview uses for a lender the configuration does not describe.
const (
	previewHelpPhone  = "+18005550100"
	previewAgentPhone = "+18005550101"
)

// previewLender describes the account's lender from the configuration, the
// flags and placeholders, in that order of preference.
func previewLender(cfg Config, id, name, lang, cadenceLang string) nudge.Lender {
	l := nudge.Lender{ID: id, Name: id, Language: cadenceLang, HelpPhone: previewHelpPhone, AgentPhone: previewAgentPhone}
	for _, lc := range cfg.Lenders {
		if lc.ID != id {
			continue
		}
		if lc.Name != "" {
			l.Name = lc.Name
		}
		if lc.Language != "" {
			l.Language = lc.Language
		}
		if lc.HelpPhone != "" {
			l.HelpPhone = lc.HelpPhone
		}
		if lc.AgentPhone != "" {
			l.AgentPhone = lc.AgentPhone
		}
	}
	if name != "" {
		l.Name = name
	}
	if lang != "" {
		l.Language = lang
	}
	return l
}

// previewToken stands for a link's token in previews: as long as a real one
// (22 characters), so that the segments shown are the ones sent.
const previewToken = "AbCdEfGhIjKlMnOpQrStUv"

// preview prints every step of c for acct: when it would go, on which
// channel, the rendered message and, for SMS, its segments against the
// template's budget, its encoding and whether it was transliterated (and the
// same as a first contact, when the profile's disclosure makes that longer).
// Links are shown with a placeholder token.
func preview(w io.Writer, c *schedules.Cadence, pack *templates.Pack, profile *compliance.Profile, acct nudge.Account, now time.Time, lender nudge.Lender, publicURL string) error {
	loc := compliance.PrimaryLocationOf(acct, profile)
	today := nudge.DateOf(now.In(loc))
	dataOn := func(day nudge.Date) templates.Data {
		d := templates.DataFor(acct, lender.Name, day)
		d.Disclosure = profile.Collector == compliance.ThirdParty
		d.HelpPhone, d.AgentPhone = lender.HelpPhone, lender.AgentPhone
		d.Link = strings.TrimRight(publicURL, "/") + "/p/" + previewToken
		d.UnsubscribeURL = strings.TrimRight(publicURL, "/") + "/u/" + previewToken
		return d
	}
	langs := templates.Locales(acct.Borrower.Language, lender.Language)
	zones, _ := compliance.CandidateZones(acct, profile)
	fmt.Fprintf(w, "cadence %s (profile %s) for account %s/%s, zones %s, at %s\n",
		c.Name, c.Profile, acct.Lender, acct.ID, strings.Join(zones, ", "), now.UTC().Format(time.RFC3339))
	if lender.HelpPhone == previewHelpPhone {
		fmt.Fprintf(w, "(lender %s is not in the configuration: its phone numbers are placeholders)\n", lender.ID)
	}
	fmt.Fprintln(w)

	type row struct {
		step    schedules.Step
		cycle   nudge.Date
		broken  bool
		heading string
	}
	var rows []row
	for _, s := range c.Steps {
		rows = append(rows, row{step: s, cycle: acct.DueDate, heading: fmt.Sprintf("day %+d", s.Day)})
	}
	for _, s := range c.BrokenPromise {
		rows = append(rows, row{step: s, cycle: today, broken: true, heading: fmt.Sprintf("%d day(s) after a broken promise (dated %s here)", s.Day, today)})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, r := range rows {
		day := r.cycle.AddDays(r.step.Day)
		preferred := day.In(loc, r.step.At.Hour, r.step.At.Minute)
		if r.step.Channel == nudge.Task {
			if i > 0 {
				fmt.Fprintln(tw)
			}
			made := preferred
			if r.step.Kind == nudge.WorkCallList {
				made, _ = compliance.NextAllowed(profile, acct, nudge.Voice, preferred) // a call list waits for the call window
			}
			when := "no allowed time"
			if !made.IsZero() {
				when = made.In(loc).Format("2006-01-02 15:04 MST")
			}
			fmt.Fprintf(tw, "step\t%s (%s)\n", r.step.ID, r.heading)
			fmt.Fprintf(tw, "date\t%s, preferred %s, work item made %s\n", day, r.step.At, when)
			fmt.Fprintf(tw, "channel\ttask, kind %s\n", r.step.Kind)
			fmt.Fprintf(tw, "instructions\t%s\n", indent(r.step.Instructions))
			continue
		}
		sends := "no allowed time"
		if t, err := compliance.NextAllowed(profile, acct, r.step.Channel, preferred); err == nil {
			sends = t.In(loc).Format("2006-01-02 15:04 MST")
		}
		out, err := pack.Render(r.step.Template, r.step.Channel, langs, dataOn(day))
		if err != nil {
			return fmt.Errorf("step %s: %w", r.step.ID, err)
		}
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "step\t%s (%s)\n", r.step.ID, r.heading)
		fmt.Fprintf(tw, "date\t%s, preferred %s, sends %s\n", day, r.step.At, sends)
		fmt.Fprintf(tw, "channel\t%s, template %s, locale %s\n", r.step.Channel, r.step.Template, out.Locale)
		switch r.step.Channel {
		case nudge.SMS:
			line := segmentsLine(out)
			if d := dataOn(day); d.Disclosure {
				// The first text a third-party collector sends carries
				// the longer first-contact disclosure.
				d.FirstContact = true
				first, err := pack.Render(r.step.Template, r.step.Channel, langs, d)
				if err != nil {
					return fmt.Errorf("step %s: %w", r.step.ID, err)
				}
				line += "; as a first contact " + segmentsLine(first)
			}
			fmt.Fprintf(tw, "segments\t%s\n", line)
			fmt.Fprintf(tw, "message\t%s\n", out.Text)
		case nudge.Email:
			fmt.Fprintf(tw, "subject\t%s\n", out.Subject)
			fmt.Fprintf(tw, "message\t%s\n", indent(out.Text))
		case nudge.Voice:
			for _, part := range voicePartsOf(out) {
				fmt.Fprintf(tw, "%s\t%s\n", part, out.Parts[part])
			}
		}
	}
	return tw.Flush()
}

// segmentsLine describes an SMS's size against its template's budget: "2 of
// 2 (GSM-7, 290 characters, transliterated)", or "4 of 2 (UCS-2, 217
// characters) OVER BUDGET" for a borrower whose text goes over it.
func segmentsLine(r templates.Rendered) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d (%s, %d characters", r.Segments, r.Budget, r.Encoding, r.Length)
	if r.Transliterated {
		b.WriteString(", transliterated")
	}
	b.WriteString(")")
	if r.OverBudget() {
		b.WriteString(" OVER BUDGET")
	}
	return b.String()
}

// budgetSummary says what the pack's SMS templates were held to.
func budgetSummary(p *templates.Pack) string {
	s := p.SMS()
	n := 0
	for _, name := range p.Names() {
		if p.Has(name, nudge.SMS) {
			n++
		}
	}
	translit := "none"
	if len(s.Transliterate) > 0 {
		translit = strings.Join(s.Transliterate, ", ")
	}
	var names []string
	for name, b := range s.Budgets {
		if p.Has(name, nudge.SMS) {
			names = append(names, fmt.Sprintf("%s %d", name, b))
		}
	}
	sort.Strings(names)
	own := ""
	if len(names) > 0 {
		own = "; own budgets: " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d SMS templates fit their budgets with long data (%d segments%s; transliterated: %s)", n, s.MaxSegments, own, translit)
}

func voicePartsOf(r templates.Rendered) []string {
	var parts []string
	for _, p := range templates.VoiceParts {
		if _, ok := r.Parts[p]; ok {
			parts = append(parts, p)
		}
	}
	return parts
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n\t")
}

// readAccount reads one account document from path.
func readAccount(path string) (nudge.Account, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nudge.Account{}, err
	}
	acct, err := account.Parse(data)
	if err != nil {
		return nudge.Account{}, fmt.Errorf("%s:\n%w", path, err)
	}
	return acct, nil
}

// parseAt reads an RFC 3339 instant, or returns now when s is empty.
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return nudge.SystemClock.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is not an RFC 3339 instant like 2026-03-08T12:00:00Z", s)
	}
	return t.UTC(), nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
