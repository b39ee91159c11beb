package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/payment"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/webhook"
)

// Defaults of the lender API.
const (
	// DefaultPageSize and MaxPageSize bound the limit query parameter of lists.
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// APIStore is the part of the store the lender API uses; *store.DB is one.
type APIStore interface {
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	APIKeyByHash(ctx context.Context, hash string) (nudge.APIKey, error)

	UpsertAccounts(ctx context.Context, accounts []nudge.Account, now time.Time) error
	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	SetNextAction(ctx context.Context, lender, id string, at time.Time) error
	SetAccountStatus(ctx context.Context, lender, id string, status nudge.AccountStatus, now time.Time) error
	AddHold(ctx context.Context, lender, id string, h nudge.Hold, now time.Time, events ...nudge.Event) error
	ClearHold(ctx context.Context, lender, id string, kind nudge.HoldKind, now time.Time, events ...nudge.Event) error

	PutCadenceVersion(ctx context.Context, lender, name string, source []byte, now time.Time, activate bool,
		audit func(version int) nudge.AuditEntry) (int, error)
	ActivateCadenceAudited(ctx context.Context, lender, name string, version int, audit nudge.AuditEntry) error
	GetCadence(ctx context.Context, lender, name string, version int) (nudge.CadenceVersion, error)
	ListCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error)
	ActiveCadences(ctx context.Context, lender string) ([]nudge.CadenceVersion, error)

	CancelReminders(ctx context.Context, lender, accountID string, reason nudge.Reason, now time.Time) ([]string, error)
	ListReminders(ctx context.Context, lender, accountID string) ([]nudge.Reminder, error)
	PageReminders(ctx context.Context, q store.ReminderQuery) ([]nudge.Reminder, error)
	PageDeadLetters(ctx context.Context, q store.DeadLetterQuery) ([]store.DeadLetter, error)
	ListPauses(ctx context.Context, lender string) ([]nudge.Pause, error)

	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	PageAttempts(ctx context.Context, q store.AttemptQuery) ([]nudge.Attempt, error)

	AccountReplies(ctx context.Context, lender, accountID string) ([]nudge.Reply, error)
	ActivePromise(ctx context.Context, lender, accountID string) (nudge.Promise, error)
	SetPromiseStatus(ctx context.Context, id string, status nudge.PromiseStatus, now time.Time, events ...nudge.Event) error
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	PagePromises(ctx context.Context, q store.PromiseQuery) ([]nudge.Promise, error)
	AddOptOut(ctx context.Context, o nudge.OptOut, events ...nudge.Event) (bool, error)
	RemoveOptOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string, events ...nudge.Event) (bool, error)
	IsOptedOut(ctx context.Context, lender string, channel nudge.ChannelKind, address string) (bool, error)
	ListOptOuts(ctx context.Context, lender string) ([]nudge.OptOut, error)

	AppendEvent(ctx context.Context, e nudge.Event) error
	Events(ctx context.Context, lender, accountID string) ([]nudge.Event, error)
	AppendAudit(ctx context.Context, a nudge.AuditEntry) error

	ErasePersonalDataBy(ctx context.Context, lender, accountID, actor string, now time.Time) (store.Erasure, error)

	RecordPayment(ctx context.Context, p nudge.Payment, events ...nudge.Event) (nudge.Payment, bool, error)
	GetPayment(ctx context.Context, lender, id string) (nudge.Payment, error)
	ListPayments(ctx context.Context, lender, accountID string) ([]nudge.Payment, error)
	SetPaymentWebhookSecret(ctx context.Context, lender, sealed string) error
	PaymentWebhookSecret(ctx context.Context, lender string) (string, error)

	KPIs(ctx context.Context, q store.KPIQuery) ([]store.KPIRow, error)
}

var _ APIStore = (*store.DB)(nil)

// API is the lender REST API under /v1. Every route but the OpenAPI
// document needs an API key (Authorization: Bearer nudge_<id>_<secret>);
// every record it reads or writes is scoped to the key's lender, and a
// record of another lender is reported as not found.
type API struct {
	Store APIStore
	// Tasks deletes the queued tasks of canceled reminders; *dispatcher.Enqueuer is one.
	Tasks dispatcher.TaskCanceler
	// Control retries and cancels reminders and pauses sending; nil leaves
	// those routes answering 404.
	Control *dispatcher.Control
	// Pack renders cadence previews.
	Pack *templates.Pack
	// Profiles resolves compliance profiles for explain and preview.
	Profiles *compliance.Registry
	// Cadences serves lenders' active cadences (to pick an account's profile).
	Cadences *schedules.Library
	// CadenceOptions are the parse options cadences are checked with (the
	// template pack and known profiles).
	CadenceOptions []schedules.Option
	Clock          nudge.Clock
	Logger         *slog.Logger
	// Limiter limits the request rate of each key; nil means no limit.
	Limiter web.KeyLimiter
	// MaxBodyBytes bounds request bodies (web.DefaultMaxBodyBytes when zero);
	// MaxImportBytes bounds account imports (web.DefaultMaxImportBytes when zero).
	MaxBodyBytes   int64
	MaxImportBytes int64
	// PublicURL is the base of borrowers' links shown in previews.
	PublicURL string
	// HistoryWindow is how far back attempts count for explain
	// (dispatcher.DefaultHistoryWindow when zero).
	HistoryWindow time.Duration
	// Sealer seals the payment webhook secrets a lender admin makes; nil
	// leaves POST and DELETE /v1/payments/webhook-secret answering 404.
	Sealer *payment.Sealer
	// Webhooks serves the events feed and webhook endpoints (sealing their
	// secrets with Sealer); nil leaves those routes answering 404.
	Webhooks nudge.WebhookStore
	// WebhookConfig says whether endpoint URLs may be http or private
	// (tests only) and how long a replayed delivery is retried.
	WebhookConfig webhook.Config
	// Prices price the KPIs' cost per cure; CureDays is their cure window
	// (store.DefaultCureDays when zero).
	Prices   kpi.Prices
	CureDays int
	// WorkItems lists and completes work items; nil leaves /v1/work-items
	// answering 404.
	WorkItems WorkItems
	// Forecaster runs POST /v1/forecast; nil leaves it answering 404.
	Forecaster Forecaster
}

// Route is one route of the lender API.
type Route struct {
	Method string
	// Path is the net/http pattern path, such as /v1/accounts/{id}.
	Path string
	// Role is the least role allowed; empty for a public route.
	Role nudge.Role
	// Write routes change data and are recorded in the audit log.
	Write bool
	// Summary is the one-line description in the OpenAPI document.
	Summary string

	handle func(c *call) error
}

// OpenAPIPath is the path of the OpenAPI document, served without a key.
const OpenAPIPath = "/v1/openapi.json"

// Routes returns every route of the API in registration order.
func (a *API) Routes() []Route {
	return append([]Route{
		{Method: http.MethodGet, Path: OpenAPIPath, Summary: "This OpenAPI document", handle: a.openAPI},
		{Method: http.MethodPost, Path: "/v1/accounts", Role: nudge.RoleOperator, Write: true, Summary: "Bulk upsert accounts (JSON array, NDJSON or CSV)", handle: a.importAccounts},
		{Method: http.MethodGet, Path: "/v1/accounts/{id}", Role: nudge.RoleViewer, Summary: "An account with its timeline", handle: a.getAccount},
		{Method: http.MethodPost, Path: "/v1/accounts/{id}/payments", Role: nudge.RoleOperator, Write: true, Summary: "Post a payment: ends the cycle, or keeps the plan instalments it covers", handle: a.postPayment},
		{Method: http.MethodPost, Path: "/v1/accounts/{id}/holds", Role: nudge.RoleOperator, Write: true, Summary: "Set a hold", handle: a.setHold},
		{Method: http.MethodDelete, Path: "/v1/accounts/{id}/holds/{kind}", Role: nudge.RoleOperator, Write: true, Summary: "Clear a hold", handle: a.clearHold},
		{Method: http.MethodDelete, Path: PersonalDataPath, Role: nudge.RoleAdmin, Write: true, Summary: "Erase the borrower's personal data", handle: a.erasePersonalData},
		{Method: http.MethodGet, Path: "/v1/accounts/{id}/explain", Role: nudge.RoleViewer, Summary: "The compliance decision for a channel now", handle: a.explain},
		{Method: http.MethodGet, Path: "/v1/opt-outs", Role: nudge.RoleViewer, Summary: "List opt-outs", handle: a.listOptOuts},
		{Method: http.MethodPost, Path: "/v1/opt-outs", Role: nudge.RoleOperator, Write: true, Summary: "Add an opt-out", handle: a.addOptOut},
		{Method: http.MethodDelete, Path: "/v1/opt-outs/{channel}/{address}", Role: nudge.RoleAdmin, Write: true, Summary: "Remove an opt-out", handle: a.removeOptOut},
		{Method: http.MethodGet, Path: "/v1/cadences", Role: nudge.RoleViewer, Summary: "List cadence versions", handle: a.listCadences},
		{Method: http.MethodPost, Path: "/v1/cadences/validate", Role: nudge.RoleOperator, Summary: "Validate a cadence file", handle: a.validateCadence},
		{Method: http.MethodGet, Path: "/v1/cadences/{name}", Role: nudge.RoleViewer, Summary: "One cadence version with its source", handle: a.getCadence},
		{Method: http.MethodPut, Path: "/v1/cadences/{name}", Role: nudge.RoleOperator, Write: true, Summary: "Store a new cadence version", handle: a.putCadence},
		{Method: http.MethodPost, Path: "/v1/cadences/{name}/preview", Role: nudge.RoleOperator, Summary: "Preview a cadence version for an account", handle: a.previewCadence},
		{Method: http.MethodPost, Path: "/v1/cadences/{name}/versions/{version}/activate", Role: nudge.RoleAdmin, Write: true, Summary: "Activate a cadence version", handle: a.activateCadence},
		{Method: http.MethodGet, Path: "/v1/payments/settings", Role: nudge.RoleViewer, Summary: "The lender's payment link, plan rules and whether a webhook secret is set", handle: a.paymentSettings},
		{Method: http.MethodPost, Path: "/v1/payments/webhook-secret", Role: nudge.RoleAdmin, Write: true, Summary: "Make a new payment webhook secret (shown once; replaces the old one)", handle: a.rotateWebhookSecret},
		{Method: http.MethodDelete, Path: "/v1/payments/webhook-secret", Role: nudge.RoleAdmin, Write: true, Summary: "Remove the payment webhook secret", handle: a.removeWebhookSecret},
		{Method: http.MethodGet, Path: "/v1/promises", Role: nudge.RoleViewer, Summary: "List promises to pay", handle: a.listPromises},
		{Method: http.MethodGet, Path: "/v1/reminders", Role: nudge.RoleViewer, Summary: "List reminders", handle: a.listReminders},
		{Method: http.MethodGet, Path: "/v1/attempts", Role: nudge.RoleViewer, Summary: "List attempts", handle: a.listAttempts},
		{Method: http.MethodPost, Path: "/v1/reminders/{id}/retry", Role: nudge.RoleOperator, Write: true, Summary: "Retry a failed reminder after a fix (through the whole send-time re-check)", handle: a.retryReminder},
		{Method: http.MethodGet, Path: "/v1/dead-letters", Role: nudge.RoleViewer, Summary: "List failed reminders (dead letters) with their last attempt", handle: a.listDeadLetters},
		{Method: http.MethodPost, Path: "/v1/dead-letters/replay", Role: nudge.RoleAdmin, Write: true, Summary: "Replay failed reminders after a fix (through the whole send-time re-check)", handle: a.replayDeadLetters},
		{Method: http.MethodPost, Path: "/v1/reminders/{id}/cancel", Role: nudge.RoleOperator, Write: true, Summary: "Cancel a reminder that is not final yet", handle: a.cancelReminder},
		{Method: http.MethodGet, Path: "/v1/pauses", Role: nudge.RoleViewer, Summary: "List the lender's pauses", handle: a.listPauses},
		{Method: http.MethodPost, Path: "/v1/pauses", Role: nudge.RoleOperator, Write: true, Summary: "Pause the lender, a cadence or a channel", handle: a.pause},
		{Method: http.MethodGet, Path: "/v1/kpis", Role: nudge.RoleViewer, Summary: "KPIs over a range of days, grouped by dimensions (JSON or CSV)", handle: a.kpis},
		{Method: http.MethodGet, Path: "/v1/experiments", Role: nudge.RoleViewer, Summary: "The experiments of the lender's active cadences with each arm's rates, Wilson intervals, p-values and the better arm", handle: a.listExperiments},
		{Method: http.MethodPost, Path: "/v1/experiments/{cadence}/promote", Role: nudge.RoleAdmin, Write: true, Summary: "Promote an experiment's arm: a new active cadence version with the arm's steps and no experiment", handle: a.promoteArm},
		{Method: http.MethodPost, Path: ForecastPath, Role: nudge.RoleOperator, Summary: "Forecast the lender's cadences over a portfolio day by day, sending nothing (JSON, CSV, SVG or a text table)", handle: a.forecast},
		{Method: http.MethodPost, Path: "/v1/pauses/resume", Role: nudge.RoleOperator, Write: true, Summary: "Lift a pause", handle: a.resume},
	}, append(a.webhookRoutes(), a.workItemRoutes()...)...)
}

// Register adds every route of the API to s.
func (a *API) Register(s *web.Server) {
	for _, rt := range a.Routes() {
		s.Handle(rt.Method+" "+rt.Path, a.serve(rt))
	}
}

// call is one request to a route.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	key   nudge.APIKey
	route Route
}

// lender is the lender every record of the call belongs to.
func (c *call) lender() string { return c.key.Lender }

// apiError is an error answered with its status and problems.
type apiError struct {
	status   int
	msg      string
	problems []problemJSON
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// problemJSON is one problem of a request, placed by row (imports), line
// and column (cadence files) and field.
type problemJSON struct {
	Row     int    `json:"row,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

type errorJSON struct {
	Error    string        `json:"error"`
	Problems []problemJSON `json:"problems,omitempty"`
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func (a *API) now() time.Time {
	if a.Clock == nil {
		return nudge.SystemClock.Now()
	}
	return a.Clock.Now()
}

// roleRank orders roles: a key may use routes of its rank or lower.
func roleRank(r nudge.Role) int {
	switch r {
	case nudge.RoleAdmin:
		return 3
	case nudge.RoleOperator:
		return 2
	case nudge.RoleViewer:
		return 1
	}
	return 0
}

// serve authenticates, rate-limits, authorises and bounds the body before
// the route's handler runs, and writes its error as JSON.
func (a *API) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, ctx: r.Context(), route: rt}
		if err := a.admit(c); err != nil {
			a.writeError(c, err)
			return
		}
		limit := a.MaxBodyBytes
		if limit <= 0 {
			limit = web.DefaultMaxBodyBytes
		}
		if (rt.Path == "/v1/accounts" || rt.Path == ForecastPath) && rt.Method == http.MethodPost {
			limit = a.MaxImportBytes
			if limit <= 0 {
				limit = web.DefaultMaxImportBytes
			}
		}
		if r.ContentLength > limit {
			a.writeError(c, errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := rt.handle(c); err != nil {
			a.writeError(c, err)
		}
	})
}

// admit checks the key, its rate and its role.
func (a *API) admit(c *call) error {
	if c.route.Role == "" {
		return nil
	}
	key, err := a.authenticate(c.ctx, c.r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	c.key = key
	if key.Platform() {
		return errorf(http.StatusForbidden, "a platform key works the operator console (%s); the lender API takes a lender's key", web.OpsPath)
	}
	if a.Limiter != nil {
		ok, wait, err := a.Limiter.Allow(c.ctx, key.ID)
		if err != nil {
			return fmt.Errorf("rate limit of key %s: %w", key.ID, err)
		}
		if !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			c.w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			return errorf(http.StatusTooManyRequests, "too many requests for this key: retry in %s", wait.Round(time.Millisecond))
		}
	}
	if roleRank(key.Role) < roleRank(c.route.Role) {
		return errorf(http.StatusForbidden, "%s %s needs the %s role; this key is %s", c.route.Method, c.route.Path, c.route.Role, key.Role)
	}
	return nil
}

// authenticate finds the unrevoked key of an Authorization header.
func (a *API) authenticate(ctx context.Context, header string) (nudge.APIKey, error) {
	unauthorized := errorf(http.StatusUnauthorized, "a valid API key is required: Authorization: Bearer nudge_<id>_<secret>")
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return nudge.APIKey{}, unauthorized
	}
	k, err := web.Authenticate(ctx, a.Store, strings.TrimSpace(token))
	if errors.Is(err, web.ErrInvalidKey) {
		return nudge.APIKey{}, unauthorized
	}
	return k, err
}

func (a *API) writeError(c *call, err error) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, nudge.ErrNotFound):
		ae = errorf(http.StatusNotFound, "not found")
	case errors.Is(err, nudge.ErrConflict):
		ae = errorf(http.StatusConflict, "conflict: %v", err)
	case errors.Is(err, context.Canceled):
		return
	default:
		a.logger().Error("api request failed", "method", c.r.Method, "path", c.route.Path, "key", c.key.ID, "err", err)
		ae = errorf(http.StatusInternalServerError, "internal error")
	}
	if ae.status == http.StatusUnauthorized {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="nudge"`)
	}
	web.WriteJSON(c.w, ae.status, errorJSON{Error: ae.msg, Problems: ae.problems})
}

// audit records a write of the call's key.
func (a *API) audit(c *call, action, target string, detail any) error {
	e, err := a.auditEntry(c, action, target, detail)
	if err != nil {
		return err
	}
	if err := a.Store.AppendAudit(c.ctx, e); err != nil {
		return fmt.Errorf("audit %s of %s: %w", action, target, err)
	}
	return nil
}

// auditEntry is the audit entry of the caller's action on target, for the
// store to append (in the transaction of the change it records, where the
// store offers one).
func (a *API) auditEntry(c *call, action, target string, detail any) (nudge.AuditEntry, error) {
	var d string
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return nudge.AuditEntry{}, fmt.Errorf("audit %s: %w", action, err)
		}
		d = string(b)
	}
	return nudge.AuditEntry{Lender: c.lender(), Actor: c.key.ID, Action: action, Target: target, Detail: d, At: a.now()}, nil
}

// newEvent is an event of the account's log (detail holds codes, ids and
// strings), for the store to append in the transaction of the change it
// records.
func (a *API) newEvent(c *call, accountID string, kind nudge.EventKind, reason nudge.Reason, detail any) nudge.Event {
	b, _ := json.Marshal(detail) // maps of strings: always marshals
	return nudge.Event{Lender: c.lender(), AccountID: accountID, Kind: kind, Reason: reason, Detail: b, At: a.now()}
}

// decodeBody reads a JSON body into v, refusing unknown fields.
func decodeBody(c *call, v any) error {
	dec := json.NewDecoder(c.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "invalid JSON body: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "invalid JSON body: unexpected data after the object")
	}
	return nil
}

// account loads the lender's account named in the path.
func (a *API) account(c *call) (nudge.Account, error) {
	return a.Store.GetAccount(c.ctx, c.lender(), c.r.PathValue("id"))
}

// problemsOf turns account problems into JSON problems.
func problemsOf(ps account.Problems) []problemJSON {
	out := make([]problemJSON, len(ps))
	for i, p := range ps {
		out[i] = problemJSON{Row: p.Row, Field: p.Field, Message: p.Message}
	}
	return out
}

// cadenceProblems turns a cadence parse error into JSON problems.
func cadenceProblems(err error) ([]problemJSON, bool) {
	var ps schedules.Problems
	if !errors.As(err, &ps) {
		return nil, false
	}
	out := make([]problemJSON, len(ps))
	for i, p := range ps {
		out[i] = problemJSON{Line: p.Line, Column: p.Column, Field: p.Field, Message: p.Message}
	}
	return out, true
}
