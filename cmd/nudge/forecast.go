package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/goccy/go-yaml"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/forecast"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/web/api"
)

// forecastRequest is what a forecast runs on.
type forecastRequest struct {
	// cadences are the cadence files by lender; those under "" apply to
	// every lender of the accounts that has none of its own.
	cadences map[string][]cadenceSource
	accounts []nudge.Account
	optOuts  []nudge.OptOut
	promises []forecast.PromiseLine
	start    time.Time
	days     int
	// prices replace the configuration's price list when set.
	prices      *kpi.Prices
	callMinutes int
	loc         *time.Location
	// tick is how often the planner ticks (forecast.DefaultTick when 0).
	tick     time.Duration
	progress func(day int, d nudge.Date)
}

// forecastOptions are the flags of `nudge forecast`.
type forecastOptions struct {
	cadences    []string
	accounts    string
	optOuts     string
	promises    string
	days        int
	prices      string
	at          string
	zone        string
	callMinutes int
	tick        time.Duration
	format      string
	out         string
}

func (a *app) forecastCmd() *cobra.Command {
	var o forecastOptions
	cmd := &cobra.Command{
		Use:   "forecast --cadence [LENDER=]FILE --accounts FILE.ndjson [--days 30] [--prices FILE] [--at TIME] [--format table|csv|svg|json] [--out FILE]",
		Short: "Forecast a cadence over a portfolio day by day: planned, deferred, suppressed, segments, call minutes, cost and peak send rates",
		Long: `forecast runs the real planner and compliance engine (the worker's whole send pipeline)
over the accounts day by day with a simulated clock, against a scratch in-memory ledger,
and sends nothing: each message the pipeline would hand to Twilio or SMTP is counted
instead. It prints, per day and channel, the reminders planned, the messages sent, the
deferrals and suppressions by reason, SMS segments, call minutes, their cost from the
price list (the configuration's prices, or --prices FILE in the same shape), and the
most sends due in one second on each sender against its configured rate.

The accounts are an NDJSON file in the format of 'nudge accounts import'. Borrowers do
not answer during a forecast: nobody replies, pays, promises or opts out unless the input
says so (--opt-outs, --promises; account status and holds). docs/forecast.md tells what
else it assumes. --cadence FILE applies to every lender of the accounts; LENDER=FILE to
one (repeat the flag for several). The configuration (--config) gives the lenders'
settings, the senders and their rates (twilio.senders, mps) and the price list; nothing
is read from or written to its database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runForecastCmd(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.cadences, "cadence", nil, "a cadence file, for every lender (FILE) or one (LENDER=FILE); repeatable")
	f.StringVar(&o.accounts, "accounts", "", "the portfolio: an NDJSON file of accounts, as 'nudge accounts import' reads")
	f.StringVar(&o.optOuts, "opt-outs", "", "an NDJSON file of opt-outs already recorded: {\"lender\",\"channel\",\"address\"} a line")
	f.StringVar(&o.promises, "promises", "", "an NDJSON file of pending promises to pay: {\"lender\",\"account_id\",\"due\",\"amount\"} a line")
	f.IntVar(&o.days, "days", 30, "how many days to forecast")
	f.StringVar(&o.prices, "prices", "", "a YAML price list (currency, sms.per_segment, voice.per_minute, email.per_message), instead of the configuration's prices")
	f.StringVar(&o.at, "at", "", "the instant the forecast starts at (RFC 3339; default now)")
	f.StringVar(&o.zone, "zone", "UTC", "the time zone days are counted in")
	f.IntVar(&o.callMinutes, "call-minutes", forecast.DefaultCallMinutes, "billed minutes counted per call")
	f.DurationVar(&o.tick, "tick", forecast.DefaultTick, "how often the planner ticks (the scheduler's cron spec; coarser is faster and plans up to a tick later)")
	f.StringVar(&o.format, "format", "table", "table, csv, svg or json")
	f.StringVar(&o.out, "out", "", "write the forecast to this file instead of standard output")
	_ = cmd.MarkFlagRequired("accounts")
	_ = cmd.MarkFlagRequired("cadence")
	return cmd
}

func (a *app) runForecastCmd(ctx context.Context, stdout, stderr io.Writer, o forecastOptions) error {
	if !slices.Contains(forecast.Formats, o.format) {
		return fmt.Errorf("--format %q: want %s", o.format, strings.Join(forecast.Formats, ", "))
	}
	if o.days <= 0 || o.days > forecast.MaxDays {
		return fmt.Errorf("--days %d: want 1 to %d", o.days, forecast.MaxDays)
	}
	if o.callMinutes <= 0 {
		return fmt.Errorf("--call-minutes %d: want at least 1", o.callMinutes)
	}
	loc, err := time.LoadLocation(o.zone)
	if err != nil {
		return fmt.Errorf("--zone %q: %w", o.zone, err)
	}
	start, err := parseAt(o.at)
	if err != nil {
		return err
	}
	if o.at == "" {
		start = start.Truncate(time.Minute)
	}
	if o.tick < time.Second {
		return fmt.Errorf("--tick %s: want at least 1s", o.tick)
	}
	req := forecastRequest{start: start, days: o.days, callMinutes: o.callMinutes, loc: loc, tick: o.tick,
		progress: func(day int, d nudge.Date) { fmt.Fprintf(stderr, "\rforecast: day %d (%s)   ", day, d) }}
	if req.cadences, err = readCadenceFlags(o.cadences); err != nil {
		return err
	}
	if req.accounts, err = readForecastAccounts(o.accounts); err != nil {
		return err
	}
	if o.optOuts != "" {
		if req.optOuts, err = readInputNDJSON(o.optOuts, forecast.ParseOptOuts); err != nil {
			return err
		}
	}
	if o.promises != "" {
		if req.promises, err = readInputNDJSON(o.promises, forecast.ParsePromises); err != nil {
			return err
		}
	}
	if o.prices != "" {
		p, err := readPrices(o.prices)
		if err != nil {
			return err
		}
		req.prices = &p
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	rep, err := a.forecast(ctx, cfg, req)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeForecast(&buf, rep, o.format); err != nil {
		return err
	}
	if o.out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(o.out, buf.Bytes(), 0o644)
}

// writeForecast writes rep in format.
func writeForecast(w io.Writer, rep forecast.Report, format string) error {
	switch format {
	case "csv":
		return forecast.WriteCSV(w, rep)
	case "svg":
		return forecast.WriteSVG(w, rep)
	case "json":
		return writeJSON(w, rep)
	}
	return forecast.WriteTable(w, rep)
}

// readCadenceFlags reads the --cadence flags: FILE or LENDER=FILE.
func readCadenceFlags(flags []string) (map[string][]cadenceSource, error) {
	out := map[string][]cadenceSource{}
	for _, f := range flags {
		lender, path := "", f
		if l, p, ok := strings.Cut(f, "="); ok {
			lender, path = l, p
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--cadence: %w", err)
		}
		out[lender] = append(out[lender], cadenceSource{name: path, data: data})
	}
	return out, nil
}

// readForecastAccounts reads an NDJSON file of accounts; every problem
// names the file, the line and the field.
func readForecastAccounts(path string) ([]nudge.Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--accounts: %w", err)
	}
	defer f.Close()
	return parseForecastAccounts(path, f)
}

// parseForecastAccounts reads NDJSON accounts from r; name prefixes every
// problem.
func parseForecastAccounts(name string, r io.Reader) ([]nudge.Account, error) {
	accts, ps := account.ParseAny(r, account.ContentTypeNDJSON)
	if len(ps) > 0 {
		errs := make([]error, 0, len(ps))
		for _, p := range ps {
			errs = append(errs, fmt.Errorf("%s: %s", name, p.String()))
		}
		return nil, errors.Join(errs...)
	}
	if len(accts) == 0 {
		return nil, fmt.Errorf("%s holds no accounts", name)
	}
	return accts, nil
}

func readInputNDJSON[T any](path string, parse func(string, io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(path, f)
}

// readPrices reads a price list: the prices section of the configuration
// as a file of its own.
func readPrices(path string) (kpi.Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return kpi.Prices{}, fmt.Errorf("--prices: %w", err)
	}
	return parsePrices(path, data)
}

func parsePrices(name string, data []byte) (kpi.Prices, error) {
	var pc PricesConfig
	if err := yaml.UnmarshalWithOptions(data, &pc, yaml.Strict()); err != nil {
		return kpi.Prices{}, fmt.Errorf("prices %s: %s", name, yaml.FormatError(err, false, true))
	}
	p, err := Config{Prices: pc}.kpiSettings()
	if err != nil {
		return kpi.Prices{}, fmt.Errorf("prices %s: %w", name, err)
	}
	return p, nil
}

// forecast runs req on a scratch runtime: cfg's lenders, senders and
// prices over an in-memory SQLite ledger and an in-process Redis, with a
// fixed clock the forecast moves, and Recorders for senders.
func (a *app) forecast(ctx context.Context, cfg Config, req forecastRequest) (forecast.Report, error) {
	if len(req.accounts) == 0 {
		return forecast.Report{}, errors.New("no accounts to forecast")
	}
	lenders := map[string]bool{}
	for _, acct := range req.accounts {
		lenders[acct.Lender] = true
	}
	cads := map[string][]cadenceSource{}
	for _, l := range slices.Sorted(maps.Keys(lenders)) {
		src, ok := req.cadences[l]
		if !ok {
			src, ok = req.cadences[""]
		}
		if !ok || len(src) == 0 {
			return forecast.Report{}, fmt.Errorf("lender %s of the accounts has no cadence (give --cadence %s=FILE or --cadence FILE)", l, l)
		}
		cads[l] = src
	}
	for l := range req.cadences {
		if l != "" && !lenders[l] {
			return forecast.Report{}, fmt.Errorf("--cadence %s=…: no account of lender %s", l, l)
		}
	}

	scratch := cfg
	scratch.Database, scratch.DatabaseReplica = "sqlite::memory:", ""
	scratch.Log = LogConfig{Level: "error", Format: "text"}
	if len(scratch.Secret) < 32 {
		s, err := demoSecret()
		if err != nil {
			return forecast.Report{}, err
		}
		scratch.Secret = s
	}
	var known []LenderConfig
	for _, lc := range cfg.Lenders {
		if lenders[lc.ID] {
			known = append(known, lc)
			delete(lenders, lc.ID)
		}
	}
	for _, l := range slices.Sorted(maps.Keys(lenders)) {
		known = append(known, LenderConfig{ID: l})
	}
	scratch.Lenders = known
	prices, err := scratch.kpiSettings()
	if err != nil {
		return forecast.Report{}, err
	}
	if req.prices != nil {
		prices = *req.prices
	}

	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return forecast.Report{}, fmt.Errorf("in-process redis: %w", err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	clock := nudge.NewFixedClock(req.start)
	quiet := *a
	quiet.stderr = io.Discard
	rt, err := quiet.newRuntime(ctx, scratch, runtimeOptions{clock: clock, rdb: rdb, cadences: cads})
	if err != nil {
		return forecast.Report{}, err
	}
	defer rt.Close()
	if err := seedForecast(ctx, rt, req); err != nil {
		return forecast.Report{}, err
	}

	rec := &forecast.Recorder{Clock: clock, SenderRate: rt.senderRate, CallMinutes: req.callMinutes}
	pcfg, err := rt.pipelineConfig()
	if err != nil {
		return forecast.Report{}, err
	}
	pcfg.Senders = map[nudge.ChannelKind]nudge.Sender{}
	for _, ch := range nudge.Channels {
		pcfg.Senders[ch] = rec
	}
	// Nothing waits for a token: the forecast counts what each sender's
	// busiest second asks of it instead.
	pcfg.Limiter, pcfg.LenderRate = nil, nil
	pipeline, err := dispatcher.NewPipeline(pcfg)
	if err != nil {
		return forecast.Report{}, err
	}
	queue := forecast.NewQueue()
	planner := rt.planner()
	planner.Enqueuer = queue
	sim := &forecast.Sim{Planner: planner, Pipeline: pipeline, Store: rt.db, Queue: queue, Recorder: rec,
		Clock: clock, Prices: prices, Location: req.loc, Tick: req.tick, Accounts: len(req.accounts), Progress: req.progress}
	return sim.Run(ctx, req.start, req.days)
}

// seedForecast writes the accounts, opt-outs and promises to the scratch
// ledger.
func seedForecast(ctx context.Context, rt *runtime, req forecastRequest) error {
	now := req.start
	if err := rt.db.UpsertAccounts(ctx, req.accounts, now); err != nil {
		return err
	}
	for _, o := range req.optOuts {
		o.CreatedAt = now
		if _, err := rt.db.AddOptOut(ctx, o); err != nil {
			return err
		}
	}
	byID := map[[2]string]nudge.Account{}
	for _, acct := range req.accounts {
		byID[[2]string{acct.Lender, acct.ID}] = acct
	}
	for i, p := range req.promises {
		acct, ok := byID[[2]string{p.Lender, p.AccountID}]
		if !ok {
			return fmt.Errorf("promises: promise %d: account %s of lender %s is not in the accounts", i+1, p.AccountID, p.Lender)
		}
		amount := p.Amount
		if amount == "" {
			amount = acct.AmountDue
		}
		pr := nudge.Promise{ID: fmt.Sprintf("prm_forecast_%06d", i+1), Lender: p.Lender, AccountID: p.AccountID,
			Amount: amount, Currency: acct.Currency, Due: p.Due, Status: nudge.PromisePending, CreatedAt: now, UpdatedAt: now}
		if err := rt.db.InsertPromise(ctx, pr); err != nil {
			return err
		}
	}
	return nil
}

// apiForecaster runs POST /v1/forecast on the configuration of the
// process serving it.
type apiForecaster struct {
	cfg Config
}

var _ api.Forecaster = apiForecaster{}

// Forecast implements api.Forecaster.
func (f apiForecaster) Forecast(ctx context.Context, in api.ForecastInput) (forecast.Report, error) {
	req := forecastRequest{cadences: map[string][]cadenceSource{}, accounts: in.Accounts, optOuts: in.OptOuts,
		promises: in.Promises, start: in.Start, days: in.Days, callMinutes: in.CallMinutes, loc: in.Location}
	for _, c := range in.Cadences {
		req.cadences[in.Lender] = append(req.cadences[in.Lender], cadenceSource{name: c.Name, data: c.Source})
	}
	quiet := &app{stdout: io.Discard, stderr: io.Discard}
	return quiet.forecast(ctx, f.cfg, req)
}
