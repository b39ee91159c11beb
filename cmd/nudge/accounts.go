package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
)

// progressThreshold is the file size from which import shows a progress bar.
const progressThreshold = 1 << 20

func (a *app) accountsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Import lenders' accounts",
	}
	cmd.AddCommand(a.accountsImportCmd())
	return cmd
}

func (a *app) accountsImportCmd() *cobra.Command {
	var (
		lender, format, encoding string
		partial                  bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE --lender L [--partial] [--format json|ndjson|csv] [--encoding utf-8|latin1|windows-1252|gb18030]",
		Short: "Upsert a file of accounts (JSON array, NDJSON or CSV), reporting every bad row",
		Long: `Import upserts the accounts of FILE for lender L, exactly as POST /v1/accounts does:
every account must name the lender; every bad row is reported with its row and field.
Nothing is written when any row is bad, unless --partial imports the good rows. The
format follows the file's extension (.csv, .ndjson or .jsonl, else JSON) unless --format
names it. A CSV file is read as UTF-8 unless --encoding names another encoding (latin1,
windows-1252 or gb18030: what Excel writes as plain "CSV"); a cell that is not valid in
the encoding is a problem of its row, never replaced. A row the database refuses is
reported with its row too. Large files show a progress bar on standard error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ct, err := importContentType(args[0], format)
			if err != nil {
				return err
			}
			enc, err := account.ParseEncoding(encoding)
			if err != nil {
				return fmt.Errorf("--encoding: %w", err)
			}
			ctx := cmd.Context()
			cfg, err := a.config()
			if err != nil {
				return err
			}
			db, err := openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			var r io.Reader = f
			var bar *progressBar
			if st.Size() >= progressThreshold {
				bar = &progressBar{w: cmd.ErrOrStderr(), r: f, total: st.Size(), label: "reading " + args[0]}
				r = bar
			}
			parsed, ps := account.ParseRowsEncoded(r, ct, enc)
			if bar != nil {
				bar.done()
			}
			rows, ps := account.ForLenderRows(parsed, lender, ps)
			stderr := cmd.ErrOrStderr()
			rejected := map[int]bool{}
			fatal := false
			for _, p := range ps {
				fmt.Fprintln(stderr, p.String())
				rejected[p.Row] = true
				fatal = fatal || p.Row <= 0
			}
			switch {
			case fatal:
				fmt.Fprintf(stderr, "%s cannot be read; nothing was imported\n", args[0])
				return exitError{1}
			case len(ps) > 0 && (!partial || len(rows) == 0):
				nothingImported(stderr, "have problems", len(rejected), partial)
				return exitError{1}
			case len(rows) == 0:
				fmt.Fprintf(stderr, "%s holds no accounts\n", args[0])
				return exitError{1}
			}
			fmt.Fprintf(stderr, "writing %d accounts…\n", len(rows))
			accts := make([]nudge.Account, len(rows))
			for i, r := range rows {
				accts[i] = r.Account
			}
			now := nudge.SystemClock.Now()
			refused, err := db.UpsertAccountsEach(ctx, accts, now, partial)
			if err != nil {
				return err
			}
			for _, rf := range refused {
				p := account.Problem{Row: rows[rf.Index].Row, Field: rf.Field, Message: "the database refused the account: " + rf.Message}
				fmt.Fprintln(stderr, p.String())
				rejected[p.Row] = true
			}
			imported := len(accts) - len(refused)
			if len(refused) > 0 && (!partial || imported == 0) {
				nothingImported(stderr, "were refused by the database", len(refused), partial)
				return exitError{1}
			}
			detail, _ := json.Marshal(map[string]any{"imported": imported, "rejected": len(rejected), "file": args[0], "encoding": enc}) // numbers and strings always marshal
			if err := db.AppendAudit(ctx, nudge.AuditEntry{Lender: lender, Actor: cliActor, Action: "accounts.import",
				Target: fmt.Sprintf("%d accounts", imported), Detail: string(detail), At: now}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "imported %d accounts for %s; %d row(s) rejected\n", imported, lender, len(rejected))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&lender, "lender", "", "the lender every account must name")
	f.BoolVar(&partial, "partial", false, "import the good rows even when others have problems")
	f.StringVar(&format, "format", "", "json, ndjson or csv (default: from the file extension)")
	f.StringVar(&encoding, "encoding", "", "the encoding of a CSV file: utf-8 (default), latin1, windows-1252 or gb18030")
	_ = cmd.MarkFlagRequired("lender")
	return cmd
}

// nothingImported tells why an import wrote nothing; the problems printed
// before it name each row.
func nothingImported(w io.Writer, what string, rows int, partial bool) {
	fmt.Fprintf(w, "%d row(s) %s; nothing was imported", rows, what)
	if !partial {
		fmt.Fprint(w, " (--partial imports the good rows)")
	}
	fmt.Fprintln(w)
}

// importContentType picks the content type from --format or the file name.
func importContentType(path, format string) (string, error) {
	switch strings.ToLower(format) {
	case "":
		return account.ContentTypeFor(path), nil
	case "json":
		return account.ContentTypeJSON, nil
	case "ndjson", "jsonl":
		return account.ContentTypeNDJSON, nil
	case "csv":
		return account.ContentTypeCSV, nil
	}
	return "", fmt.Errorf("--format %q: want json, ndjson or csv", format)
}

// progressBar reports how much of a file has been read, redrawing one line
// each time another percent is done.
type progressBar struct {
	w     io.Writer
	r     io.Reader
	label string
	total int64
	read  int64
	shown int
}

// barWidth is the number of cells of the progress bar.
const barWidth = 30

func (p *progressBar) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if pct := int(p.read * 100 / max(p.total, 1)); pct > p.shown {
		p.shown = min(pct, 100)
		p.draw()
	}
	return n, err
}

func (p *progressBar) draw() {
	cells := p.shown * barWidth / 100
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %.1f/%.1f MB", p.label, strings.Repeat("#", cells), strings.Repeat(".", barWidth-cells),
		p.shown, float64(p.read)/1e6, float64(p.total)/1e6)
}

// done completes the bar's line.
func (p *progressBar) done() {
	p.shown = 100
	p.draw()
	fmt.Fprintln(p.w)
}
