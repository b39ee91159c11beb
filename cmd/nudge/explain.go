package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/compliance"
)

func (a *app) explainCmd() *cobra.Command {
	var accountPath, channel, at, historyPath, profileName, address string
	var text, optedOut, sendTime bool
	cmd := &cobra.Command{
		Use:   "explain --account FILE.json --channel sms|voice|email [--at RFC3339] [--history FILE.ndjson] [--profile NAME] [--text]",
		Short: "Explain the compliance decision for an account, a channel and an instant",
		Long: `Explain prints the send-time compliance decision for an account on a channel at an
instant: send, defer (with the instant it becomes allowed) or suppress, with the reason,
the rule behind it, a one-sentence explanation and the candidate time zones used.
Besides --profile, the jurisdiction profiles of the borrower's state, region or city
apply (us-ma, us-wa, us-nyc when the lender opts in, in, and us or cn): "applied" names
them all and "decided_by" the one whose rule gave the answer. An account whose stated
time zone does not exist is explained (suppress, unknown_timezone), not refused.
--history gives earlier attempts as NDJSON (see docs/compliance.md).

--send-time also shows what send-time optimisation would choose for a send on the day
of --at (docs/send-time.md): the chosen instant and hour, and for every hour the window
allows the borrower's own successes/trials on the channel, those of similar borrowers,
the Beta posterior and the value drawn. The counts are read from the configured
database (the account's lender, by the account's id).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			_, reg, err := a.rules(cfg)
			if err != nil {
				return err
			}
			acct, err := readExplainAccount(accountPath)
			if err != nil {
				return err
			}
			ch, err := nudge.ParseChannel(channel)
			if err != nil {
				return fmt.Errorf("--channel: %w", err)
			}
			now, err := parseAt(at)
			if err != nil {
				return err
			}
			if profileName == "" {
				profileName = compliance.DefaultProfileName(acct)
			}
			profile, err := reg.Lookup(profileName)
			if err != nil {
				return fmt.Errorf("--profile: %w", err)
			}
			var history []nudge.Attempt
			if historyPath != "" {
				f, err := os.Open(historyPath)
				if err != nil {
					return err
				}
				history, err = compliance.ReadHistory(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", historyPath, err)
				}
			}
			if address == "" {
				if cs := acct.ContactsFor(ch); len(cs) > 0 {
					address = cs[0].Address
				}
			}
			d := compliance.Decide(compliance.Input{
				Account: acct, Channel: ch, Address: address, At: now,
				History: history, OptedOut: optedOut, Profile: profile,
			})
			if !sendTime {
				if text {
					_, err = fmt.Fprintln(cmd.OutOrStdout(), d.Text())
					return err
				}
				return writeJSON(cmd.OutOrStdout(), d)
			}
			choice, ok, err := explainSendTime(cmd.Context(), cfg, acct, ch, profile, now)
			if err != nil {
				return err
			}
			if text {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), d.Text())
				if err == nil {
					err = writeSendTimeText(cmd.OutOrStdout(), choice, ok)
				}
				return err
			}
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			m["send_time"] = nil
			if ok {
				m["send_time"] = choice
			}
			return writeJSON(cmd.OutOrStdout(), m)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accountPath, "account", "", "account document (JSON, see docs/accounts.md)")
	f.StringVar(&channel, "channel", "", "sms, voice or email")
	f.StringVar(&at, "at", "", "the instant of the decision (RFC 3339; default now)")
	f.StringVar(&historyPath, "history", "", "earlier attempts, one JSON object a line")
	f.StringVar(&profileName, "profile", "", "compliance profile (us, cn or a lender profile; default from the account's country)")
	f.StringVar(&address, "address", "", "the contact address to decide for (default: the account's first on the channel)")
	f.BoolVar(&optedOut, "opted-out", false, "treat the address as opted out")
	f.BoolVar(&text, "text", false, "print a sentence instead of JSON")
	f.BoolVar(&sendTime, "send-time", false, "also show the send-time optimiser's choice for the day of --at and its evidence, from the database")
	_ = cmd.MarkFlagRequired("account")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// readExplainAccount reads the account document at path for explain. A
// stated time zone that does not exist is kept instead of refused, when it
// is the document's only problem: the decision for such an account is the
// documented suppress with unknown_timezone.
func readExplainAccount(path string) (nudge.Account, error) {
	acct, err := readAccount(path)
	var ps account.Problems
	if err == nil || !errors.As(err, &ps) || !onlyUnknownTimezone(ps) {
		return acct, err
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		return nudge.Account{}, err
	}
	zone, rest, ok := withoutTimezone(data)
	if !ok {
		return nudge.Account{}, err
	}
	acct, perr := account.Parse(rest)
	if perr != nil {
		return nudge.Account{}, err
	}
	acct.Borrower.Timezone = strings.TrimSpace(zone)
	return acct, nil
}

// onlyUnknownTimezone reports whether every problem says that the stated
// time zone is not an IANA zone.
func onlyUnknownTimezone(ps account.Problems) bool {
	for _, p := range ps {
		if p.Field != "borrower.timezone" || !strings.Contains(p.Message, "is not an IANA time zone") {
			return false
		}
	}
	return len(ps) > 0
}

// withoutTimezone returns the account document data without
// borrower.timezone, and the zone it stated.
func withoutTimezone(data []byte) (zone string, rest []byte, ok bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil {
		return "", nil, false
	}
	var borrower map[string]json.RawMessage
	if json.Unmarshal(doc["borrower"], &borrower) != nil || json.Unmarshal(borrower["timezone"], &zone) != nil {
		return "", nil, false
	}
	delete(borrower, "timezone")
	b, err := json.Marshal(borrower)
	if err != nil {
		return "", nil, false
	}
	doc["borrower"] = b
	rest, err = json.Marshal(doc)
	return zone, rest, err == nil
}
