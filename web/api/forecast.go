package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/forecast"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// ForecastPath is the path of the forecast route.
const ForecastPath = "/v1/forecast"

// MaxForecastAccounts bounds the portfolio of one POST /v1/forecast (the
// command `nudge forecast` has no bound).
const MaxForecastAccounts = 20000

// ForecastCadence is one cadence file a forecast plans with.
type ForecastCadence struct {
	Name   string
	Source []byte
}

// ForecastInput is what POST /v1/forecast hands to its Forecaster.
type ForecastInput struct {
	Lender   string
	Cadences []ForecastCadence
	Accounts []nudge.Account
	OptOuts  []nudge.OptOut
	Promises []forecast.PromiseLine
	Start    time.Time
	Days     int
	// CallMinutes is the billed minutes counted per call.
	CallMinutes int
	Location    *time.Location
}

// Forecaster runs a forecast on a scratch ledger (docs/forecast.md).
type Forecaster interface {
	Forecast(ctx context.Context, in ForecastInput) (forecast.Report, error)
}

// forecasts lets one forecast run at a time in the process: each holds a
// whole scratch ledger and keeps a core busy.
var forecasts sync.Mutex

// forecast answers POST /v1/forecast: the body is the portfolio (a JSON
// array, NDJSON or CSV of accounts, as POST /v1/accounts takes), forecast with
// the lender's active cadences (or the stored version ?cadence=NAME&version=N),
// its recorded opt-outs and its accounts' pending promises.
func (a *API) forecast(c *call) error {
	if a.Forecaster == nil {
		return errorf(http.StatusNotFound, "forecasts are not available on this server")
	}
	q := c.r.URL.Query()
	format, err := enumParam(c, "format", "json", "csv", "svg", "table")
	if err != nil {
		return err
	}
	in := ForecastInput{Lender: c.lender(), Days: 30, CallMinutes: forecast.DefaultCallMinutes, Location: time.UTC,
		Start: a.now().UTC().Truncate(time.Minute)}
	if v := q.Get("days"); v != "" {
		if in.Days, err = strconv.Atoi(v); err != nil || in.Days < 1 || in.Days > forecast.MaxDays {
			return badParam("days", "%q is not a number of days from 1 to %d", v, forecast.MaxDays)
		}
	}
	if v := q.Get("call_minutes"); v != "" {
		if in.CallMinutes, err = strconv.Atoi(v); err != nil || in.CallMinutes < 1 {
			return badParam("call_minutes", "%q is not a whole number of minutes, at least 1", v)
		}
	}
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badParam("at", "%q is not an RFC 3339 instant like 2026-03-08T12:00:00Z", v)
		}
		in.Start = t.UTC()
	}
	if v := q.Get("zone"); v != "" {
		if in.Location, err = time.LoadLocation(v); err != nil {
			return badParam("zone", "%q is not a time zone", v)
		}
	}
	if in.Cadences, err = a.forecastCadences(c); err != nil {
		return err
	}
	rows, ps, _, err := forecastBody.parse(c)
	if err != nil {
		return err
	}
	switch {
	case len(ps) > 0:
		return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf("%d problem(s) in the accounts; nothing was forecast", len(ps)), problems: problemsOf(ps)}
	case len(rows) == 0:
		return errorf(http.StatusBadRequest, "no accounts: the body holds none")
	case len(rows) > MaxForecastAccounts:
		return errorf(http.StatusRequestEntityTooLarge, "%d accounts: a forecast through the API takes at most %d (nudge forecast takes any number)", len(rows), MaxForecastAccounts)
	}
	for _, r := range rows {
		in.Accounts = append(in.Accounts, r.Account)
	}
	if err := a.forecastLedger(c, &in); err != nil {
		return err
	}
	if !forecasts.TryLock() {
		c.w.Header().Set("Retry-After", "60")
		return errorf(http.StatusTooManyRequests, "another forecast is running on this server: retry when it is done")
	}
	rep, err := a.Forecaster.Forecast(c.ctx, in)
	forecasts.Unlock()
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "forecast: %v", err)
	}
	var buf bytes.Buffer
	switch format {
	case "", "json":
		web.WriteJSON(c.w, http.StatusOK, rep)
		return nil
	case "csv":
		c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		err = forecast.WriteCSV(&buf, rep)
	case "svg":
		c.w.Header().Set("Content-Type", "image/svg+xml")
		err = forecast.WriteSVG(&buf, rep)
	default:
		c.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		err = forecast.WriteTable(&buf, rep)
	}
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusOK)
	_, err = c.w.Write(buf.Bytes())
	return err
}

// forecastCadences are the stored version the query names, or the
// lender's active cadences.
func (a *API) forecastCadences(c *call) ([]ForecastCadence, error) {
	q := c.r.URL.Query()
	if name := q.Get("cadence"); name != "" {
		v, err := strconv.Atoi(q.Get("version"))
		if err != nil || v < 1 {
			return nil, badParam("version", "%q is not a version number (cadence=%s needs its version)", q.Get("version"), name)
		}
		cv, err := a.Store.GetCadence(c.ctx, c.lender(), name, v)
		if errors.Is(err, nudge.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "cadence %s has no version %d", name, v)
		}
		if err != nil {
			return nil, err
		}
		return []ForecastCadence{{Name: fmt.Sprintf("%s@%d", cv.Name, cv.Version), Source: cv.Source}}, nil
	}
	active, err := a.Store.ActiveCadences(c.ctx, c.lender())
	if err != nil {
		return nil, err
	}
	if len(active) == 0 {
		return nil, errorf(http.StatusConflict, "the lender has no active cadence: activate one or name a version (?cadence=NAME&version=N)")
	}
	out := make([]ForecastCadence, len(active))
	for i, cv := range active {
		out[i] = ForecastCadence{Name: fmt.Sprintf("%s@%d", cv.Name, cv.Version), Source: cv.Source}
	}
	return out, nil
}

// forecastLedger adds the lender's recorded opt-outs and the accounts'
// pending promises to in.
func (a *API) forecastLedger(c *call, in *ForecastInput) error {
	outs, err := a.Store.ListOptOuts(c.ctx, c.lender())
	if err != nil {
		return err
	}
	in.OptOuts = outs
	ids := map[string]bool{}
	for _, acct := range in.Accounts {
		ids[acct.ID] = true
	}
	var after store.Cursor
	for {
		page, err := a.Store.PagePromises(c.ctx, store.PromiseQuery{Lender: c.lender(), Status: nudge.PromisePending, After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, p := range page {
			if ids[p.AccountID] {
				in.Promises = append(in.Promises, forecast.PromiseLine{Lender: p.Lender, AccountID: p.AccountID, Due: p.Due, Amount: p.Amount})
			}
		}
		if len(page) < 1000 {
			return nil
		}
		last := page[len(page)-1]
		after = store.Cursor{At: last.CreatedAt, ID: last.ID}
	}
}
