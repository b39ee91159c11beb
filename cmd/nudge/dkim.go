package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// dkimCmd prints the DNS records that publish the configured DKIM keys.
func (a *app) dkimCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dkim",
		Short: "Check the DKIM keys of the configuration and print the DNS TXT records that publish them",
		Long: `Check the DKIM keys of smtp.dkim (per domain) and lenders[].dkim (per lender) as
the roles do at start, then print, for each key, the TXT record receivers look up to
verify Nudge's signatures: its name ({selector}._domainkey.{domain}) and its value.
Publish each record in the domain's DNS before the key signs mail; a long RSA value
may have to be split into strings of at most 255 characters.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if _, err := cfg.emailIdentities(); err != nil {
				return err
			}
			n, err := writeDKIMRecords(cmd.OutOrStdout(), cfg)
			if err == nil && n == 0 {
				err = errors.New("no DKIM key is configured: add smtp.dkim or lenders[].dkim (docs/operations.md, \"DKIM\")")
			}
			return err
		},
	}
}

// writeDKIMRecords writes to w, in zone-file form, the TXT record of every
// DKIM key of cfg, each after a comment naming its setting, and returns
// how many it wrote. The keys must have been checked (emailIdentities).
func writeDKIMRecords(w io.Writer, cfg Config) (int, error) {
	type named struct {
		field string
		key   DKIMConfig
	}
	var keys []named
	for i, k := range cfg.SMTP.DKIM {
		keys = append(keys, named{fmt.Sprintf("smtp.dkim[%d]", i), k})
	}
	for i, l := range cfg.Lenders {
		for j, k := range l.DKIM {
			keys = append(keys, named{fmt.Sprintf("lenders[%d].dkim[%d] (lender %s)", i, j, l.ID), k})
		}
	}
	for _, k := range keys {
		name, value, err := dkimKeys([]DKIMConfig{k.key})[0].Record()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k.field, err)
		}
		if _, err := fmt.Fprintf(w, "; %s\n%s. IN TXT \"%s\"\n", k.field, name, value); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
