package ops

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/dispatcher"
	"github.com/nudgehq/nudge/kpi"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/sendtime"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// Dashboard limits.
const (
	// DefaultOpsRangeDays is how many days a range of dates spans when it
	// names only its last day (?to=), ending today when it names neither.
	DefaultOpsRangeDays = 30
	// MaxOpsRangeDays is the longest date range a page accepts.
	MaxOpsRangeDays = 366
	// DefaultOpsRefresh is how often the live parts of a page refresh.
	DefaultOpsRefresh = 30 * time.Second
)

//go:embed templates/*.html
var opsTemplateFS embed.FS

//go:embed static
var opsStaticFS embed.FS

// OpsStore is the part of the store the operator dashboard reads; *store.DB is one.
type OpsStore interface {
	GetLender(ctx context.Context, id string) (nudge.Lender, error)
	APIKeyByHash(ctx context.Context, hash string) (nudge.APIKey, error)
	ListAPIKeys(ctx context.Context, lender string) ([]nudge.APIKey, error)

	GetAccount(ctx context.Context, lender, id string) (nudge.Account, error)
	ListReminders(ctx context.Context, lender, accountID string) ([]nudge.Reminder, error)
	AttemptHistory(ctx context.Context, lender, accountID string, since time.Time) ([]nudge.Attempt, error)
	AccountReplies(ctx context.Context, lender, accountID string) ([]nudge.Reply, error)
	ListPromises(ctx context.Context, lender, accountID string) ([]nudge.Promise, error)
	Events(ctx context.Context, lender, accountID string) ([]nudge.Event, error)

	ListLenders(ctx context.Context) ([]nudge.Lender, error)
	AppendAudit(ctx context.Context, a nudge.AuditEntry) error
	QueueCounts(ctx context.Context, lender string) ([]store.QueueCount, error)
	PageReminders(ctx context.Context, q store.ReminderQuery) ([]nudge.Reminder, error)
	ListPauses(ctx context.Context, lender string) ([]nudge.Pause, error)

	OpsSummary(ctx context.Context, q store.OpsQuery) (store.OpsSummary, error)
	OpsFunnel(ctx context.Context, q store.OpsQuery) ([]store.FunnelStep, error)
	KPIs(ctx context.Context, q store.KPIQuery) ([]store.KPIRow, error)

	SearchAccounts(ctx context.Context, q store.AccountSearch) ([]store.AccountMatch, error)
	PageAttempts(ctx context.Context, q store.AttemptQuery) ([]nudge.Attempt, error)
	PageDecided(ctx context.Context, q store.DecidedQuery) ([]store.DecidedReminder, error)
	PageOptOuts(ctx context.Context, q store.OptOutQuery) ([]store.OptOutRow, error)
	PagePromises(ctx context.Context, q store.PromiseQuery) ([]nudge.Promise, error)
	PageReplies(ctx context.Context, q store.ReplyQuery) ([]store.ReplyRow, error)
	PageDeadLetters(ctx context.Context, q store.DeadLetterQuery) ([]store.DeadLetter, error)
	AssignReply(ctx context.Context, lender, id, assignee, actor string, now time.Time) error
	ResolveReply(ctx context.Context, lender, id, actor, note string, now time.Time) error
}

var _ OpsStore = (*store.DB)(nil)

// QueueInspector reports the depth and latency of Asynq queues and the
// state of one task; *asynq.Inspector is one.
type QueueInspector interface {
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
}

// OpsConfig configures the operator dashboard.
type OpsConfig struct {
	// Store is required.
	Store OpsStore
	// Secret signs session cookies and CSRF tokens (HMAC-SHA256); at least
	// 32 bytes, normally the deployment secret.
	Secret []byte
	// Redis is the Asynq Redis: it feeds the queue table and asynqmon at
	// /ops/queues/. Nil hides both.
	Redis redis.UniversalClient
	// Queues overrides the queue table's source (tests); by default an
	// inspector over Redis.
	Queues QueueInspector
	// QueueNames are the queues shown; by default, critical and the
	// viewed lender's queues of each channel (dispatcher.QueueFor).
	QueueNames []string
	// PublicURL decides whether cookies are Secure (when it is https).
	PublicURL string
	// SessionTTL is how long a login lasts (DefaultOpsSessionTTL when zero).
	SessionTTL time.Duration
	// Control carries out a lender's queue actions (retry, cancel, pause,
	// resume); nil shows the queue view without them.
	Control *dispatcher.Control
	// Cadences orders the funnel by the steps of each cadence and, for a
	// lender without a time zone, gives the zone of its cadences'
	// jurisdiction; *schedules.Library is one. Nil orders the funnel by
	// due time and counts such a lender's days in UTC.
	Cadences OpsCadences
	// WorkItems keeps the work items of task steps; nil hides /ops/tasks.
	WorkItems OpsWorkItems
	// Refresh is how often the overview and the lists refresh themselves
	// in the browser (DefaultOpsRefresh when zero; negative turns it off).
	Refresh time.Duration
	// Prices price the KPI page's cost per cure; CureDays is the KPIs'
	// cure window (store.DefaultCureDays when zero).
	Prices   kpi.Prices
	CureDays int
	// CadenceOptions check a cadence version an experiment's promotion
	// writes (the template pack and profiles), as the CLI checks files.
	CadenceOptions []schedules.Option
	// SendTime explains on the account page the hour send-time
	// optimisation would choose today on each of the account's channels,
	// with each hour's evidence, whether or not the lender has the switch
	// on (docs/send-time.md); it needs Cadences for the account's profile.
	// Nil leaves the section out.
	SendTime *sendtime.Optimiser
	Clock    nudge.Clock
	Logger   *slog.Logger
}

// OpsCadences reads a lender's active cadences and their compliance
// profiles; *schedules.Library is one.
type OpsCadences interface {
	Cadences(ctx context.Context, lender string) ([]schedules.Versioned, error)
	Profile(ctx context.Context, lender, name string, version int) (*compliance.Profile, error)
}

var _ OpsCadences = (*schedules.Library)(nil)

// Ops is the operator dashboard under /ops: server-rendered pages behind a
// login with an API key. A lender's key sees and acts on its own lender only:
// its queue view (/ops/queue) is built from the database and Asynq's
// inspector filtered to that lender's reminders. A platform key (the
// operators who run Nudge for every lender) picks the lender it looks at,
// and is the only kind of key asynqmon at /ops/queues/ accepts: the Asynq
// queues are shared by every lender.
type Ops struct {
	cfg    OpsConfig
	signer opsSigner
	secure bool
	pages  map[string]*template.Template
	static *staticFiles
	// monitor is asynqmon in full mode (admins) and read-only mode (others).
	monitorFull, monitorReadOnly http.Handler
}

// NewOps checks cfg and returns the dashboard.
func NewOps(cfg OpsConfig) (*Ops, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("ops: missing store")
	case len(cfg.Secret) < 32:
		return nil, fmt.Errorf("ops: the secret must be at least 32 bytes, got %d", len(cfg.Secret))
	}
	if cfg.Clock == nil {
		cfg.Clock = nudge.SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultOpsSessionTTL
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultOpsRefresh
	}
	if cfg.Queues == nil && cfg.Redis != nil {
		cfg.Queues = asynq.NewInspectorFromRedisClient(cfg.Redis)
	}
	o := &Ops{cfg: cfg, signer: newOpsSigner(cfg.Secret), pages: map[string]*template.Template{}}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" {
		o.secure = true
	}
	for _, name := range []string{"login", "overview", "funnel", "search", "account", "replies", "queue", "error",
		"attempts", "decided", "optouts", "promises", "deadletters", "kpis", "tasks", "experiments"} {
		t, err := template.New("layout.html").Funcs(opsFuncs).ParseFS(opsTemplateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ops: template %s: %w", name, err)
		}
		o.pages[name] = t
	}
	o.static = opsStatic
	if cfg.Redis != nil {
		o.monitorFull = newQueueMonitor(cfg.Redis, false)
		o.monitorReadOnly = newQueueMonitor(cfg.Redis, true)
	}
	return o, nil
}

// Register adds the dashboard's routes to s.
func (o *Ops) Register(s *web.Server) {
	s.Handle("GET "+web.OpsPath+"/login", http.HandlerFunc(o.loginForm))
	s.Handle("POST "+web.OpsPath+"/login", http.HandlerFunc(o.login))
	s.Handle("POST "+web.OpsPath+"/logout", o.page(o.logout))
	s.Handle("GET "+web.OpsPath+"/static/", o.static)
	s.Handle("GET "+web.OpsPath+"/{$}", o.page(o.overview))
	s.Handle("GET "+web.OpsPath+"/funnel", o.page(o.funnel))
	s.Handle("GET "+web.OpsPath+"/kpis", o.page(o.kpis))
	s.Handle("GET "+web.OpsPath+"/experiments", o.page(o.experiments))
	s.Handle("POST "+web.OpsPath+"/experiments/promote", o.page(o.promoteArm))
	s.Handle("GET "+web.OpsPath+"/accounts", o.page(o.lookup))
	s.Handle("GET "+web.OpsPath+"/accounts/{id}", o.page(o.account))
	s.Handle("GET "+web.OpsPath+"/replies", o.page(o.replies))
	s.Handle("POST "+web.OpsPath+"/replies/{id}/{action}", o.page(o.replyAction))
	s.Handle("GET "+web.OpsPath+"/attempts", o.page(o.attempts))
	s.Handle("GET "+web.OpsPath+"/deferred", o.page(o.deferred))
	s.Handle("GET "+web.OpsPath+"/suppressed", o.page(o.suppressed))
	s.Handle("GET "+web.OpsPath+"/optouts", o.page(o.optOuts))
	s.Handle("GET "+web.OpsPath+"/promises", o.page(o.promises))
	s.Handle("GET "+web.OpsPath+"/queue", o.page(o.queueView))
	s.Handle("POST "+web.OpsPath+"/queue/reminders/{id}/{action}", o.page(o.reminderAction))
	s.Handle("POST "+web.OpsPath+"/queue/pauses/{action}", o.page(o.pauseAction))
	s.Handle("GET "+web.OpsPath+"/tasks", o.page(o.tasks))
	s.Handle("POST "+web.OpsPath+"/tasks/{id}/{action}", o.page(o.taskAction))
	s.Handle("GET "+web.OpsPath+"/dead-letters", o.page(o.deadLetters))
	s.Handle("POST "+web.OpsPath+"/dead-letters/replay", o.page(o.replayDeadLetters))
	if o.monitorFull != nil {
		s.Handle(web.OpsQueuesPath+"/", http.HandlerFunc(o.queues))
	}
}

func (o *Ops) now() time.Time { return o.cfg.Clock.Now() }

// opsView is what every page template sees.
type opsView struct {
	Title  string
	Nav    string
	Key    nudge.APIKey
	Lender nudge.Lender
	// Lenders are the lenders a platform key may switch between.
	Lenders []nudge.Lender
	CSRF    string
	Queues  bool
	Filter  opsFilter
	Error   string
	Message string
	Next    string
	Data    any
	// WorkItems shows the work items page in the navigation.
	WorkItems bool

	// Lang is the page's language (one of opsLocales); Langs is the
	// language menu.
	Lang  string
	Langs []langChoice
	// Zone is the lender's time zone: pages show times and count days in it.
	Zone *time.Location
	// Now is when the page was made.
	Now time.Time
	// Refresh, when positive, is how many seconds apart the page's live
	// parts refresh themselves.
	Refresh int
}

// opsError is an error shown as a page with its status. Its format is an
// English text of the catalogue, translated when the page is shown.
type opsError struct {
	status int
	format string
	args   []any
}

func (e *opsError) Error() string { return fmt.Sprintf(e.format, e.args...) }

func opsErrorf(status int, format string, args ...any) *opsError {
	return &opsError{status: status, format: format, args: args}
}

// statusTitles are the titles of error pages.
var statusTitles = map[int]string{
	http.StatusBadRequest:            msg("Bad request"),
	http.StatusUnauthorized:          msg("Not logged in"),
	http.StatusForbidden:             msg("Not allowed"),
	http.StatusNotFound:              msg("Not found"),
	http.StatusConflict:              msg("Conflict"),
	http.StatusRequestEntityTooLarge: msg("Too large"),
	http.StatusInternalServerError:   msg("Something went wrong"),
}

// pageFunc serves one page for a logged-in key; it fills v and returns the
// template to render, or "" when it has answered itself.
type pageFunc func(w http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error)

// page authenticates the session (redirecting to the login form without
// one), checks CSRF on POSTs, and renders the page.
func (o *Ops) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		p, err := o.principal(r)
		if err != nil {
			if !errors.Is(err, errOpsSession) {
				o.fail(w, r, nil, err)
				return
			}
			if r.Method != http.MethodGet {
				o.fail(w, r, nil, opsErrorf(http.StatusUnauthorized, "your session has ended: log in again"))
				return
			}
			http.Redirect(w, r, web.OpsPath+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, web.MaxOpsLoginBody)
			if !o.signer.checkCSRF(p.Session.Nonce, r.PostFormValue("csrf")) {
				o.fail(w, r, p, opsErrorf(http.StatusForbidden, "the form has expired or was not sent by this dashboard: reload the page and try again"))
				return
			}
		}
		v := &opsView{Key: p.Key, CSRF: p.CSRF, Queues: o.monitorFull != nil && p.Key.Platform(), Now: o.now(),
			WorkItems: o.cfg.WorkItems != nil}
		if err := o.actingLender(w, r, p, v); err != nil {
			o.fail(w, r, p, err)
			return
		}
		o.localise(w, r, v)
		name, err := fn(w, r, p, v)
		if err != nil {
			o.fail(w, r, p, err)
			return
		}
		if name != "" {
			o.render(w, http.StatusOK, name, v)
		}
	})
}

// OpsLenderCookie remembers which lender a platform key is looking at.
const OpsLenderCookie = "nudge_ops_lender"

// actingLender sets the lender the page is about: a lender key's own; for a
// platform key the one named by ?lender= (remembered in a cookie), else the
// remembered one, else the first lender.
func (o *Ops) actingLender(w http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) error {
	ctx := r.Context()
	p.Lender = p.Key.Lender
	if p.Key.Platform() {
		lenders, err := o.cfg.Store.ListLenders(ctx)
		if err != nil {
			return fmt.Errorf("lenders: %w", err)
		}
		if len(lenders) == 0 {
			return opsErrorf(http.StatusNotFound, "no lender is configured yet")
		}
		v.Lenders = lenders
		want := r.URL.Query().Get("lender")
		if want == "" {
			if c, err := r.Cookie(OpsLenderCookie); err == nil {
				want = c.Value
			}
		}
		p.Lender = lenders[0].ID
		for _, l := range lenders {
			if l.ID == want {
				p.Lender = l.ID
			}
		}
		if q := r.URL.Query().Get("lender"); q != "" && q != p.Lender {
			return opsErrorf(http.StatusNotFound, "no lender %s", q)
		}
		http.SetCookie(w, o.cookie(OpsLenderCookie, p.Lender))
	}
	l, err := o.cfg.Store.GetLender(ctx, p.Lender)
	switch {
	case errors.Is(err, nudge.ErrNotFound):
		l = nudge.Lender{ID: p.Lender, Name: p.Lender}
	case err != nil:
		return fmt.Errorf("lender %s: %w", p.Lender, err)
	}
	v.Lender = l
	return nil
}

// principal reads and checks the session cookie, then the key it names:
// a revoked key, or one whose lender changed, has no session.
func (o *Ops) principal(r *http.Request) (*opsPrincipal, error) {
	c, err := r.Cookie(OpsSessionCookie)
	if err != nil {
		return nil, errOpsSession
	}
	sess, err := o.signer.open(c.Value, o.now())
	if err != nil {
		return nil, err
	}
	keys, err := o.cfg.Store.ListAPIKeys(r.Context(), sess.Lender)
	if err != nil {
		return nil, fmt.Errorf("keys of lender %s: %w", sess.Lender, err)
	}
	for _, k := range keys {
		if k.ID == sess.KeyID && k.RevokedAt.IsZero() && k.Role.Valid() {
			return &opsPrincipal{Key: k, Session: sess, CSRF: o.signer.csrf(sess.Nonce)}, nil
		}
	}
	return nil, errOpsSession
}

// fail answers err as an error page.
func (o *Ops) fail(w http.ResponseWriter, r *http.Request, p *opsPrincipal, err error) {
	var oe *opsError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &oe):
	case errors.As(err, &mbe):
		oe = opsErrorf(http.StatusRequestEntityTooLarge, "the form is larger than %d bytes", mbe.Limit)
	case errors.Is(err, nudge.ErrNotFound):
		oe = opsErrorf(http.StatusNotFound, "not found")
	case errors.Is(err, context.Canceled):
		return
	default:
		o.cfg.Logger.Error("ops page failed", "path", r.URL.Path, "err", err)
		oe = opsErrorf(http.StatusInternalServerError, "internal error")
	}
	v := &opsView{Now: o.now()}
	if p != nil {
		v.Key, v.CSRF, v.Queues = p.Key, p.CSRF, o.monitorFull != nil && p.Key.Platform()
		v.WorkItems = o.cfg.WorkItems != nil
		v.Lender = nudge.Lender{ID: p.Lender, Name: p.Lender}
		if l, err := o.cfg.Store.GetLender(r.Context(), p.Lender); err == nil {
			v.Lender = l
		}
	}
	o.localise(w, r, v)
	v.Title, v.Error = http.StatusText(oe.status), v.Tf(oe.format, oe.args...)
	if t, ok := statusTitles[oe.status]; ok {
		v.Title = v.T(t)
	}
	o.render(w, oe.status, "error", v)
}

func (o *Ops) render(w http.ResponseWriter, status int, name string, v *opsView) {
	t, ok := o.pages[name]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		o.cfg.Logger.Error("ops template failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// safeNext returns next when it is a path of the dashboard, else /ops/.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return web.OpsPath + "/"
	}
	inside := u.Path == web.OpsPath || strings.HasPrefix(u.Path, web.OpsPath+"/")
	if !inside || strings.HasPrefix(u.Path, web.OpsPath+"/login") {
		return web.OpsPath + "/"
	}
	return next
}

// loginForm shows the login form with a fresh anti-forgery nonce.
func (o *Ops) loginForm(w http.ResponseWriter, r *http.Request) {
	o.showLogin(w, r, http.StatusOK, nil)
}

func (o *Ops) showLogin(w http.ResponseWriter, r *http.Request, status int, msg *opsError) {
	nonce, err := newOpsNonce()
	if err != nil {
		o.fail(w, r, nil, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	http.SetCookie(w, o.cookie(opsLoginCookie, nonce))
	v := &opsView{CSRF: o.signer.csrf(nonce), Next: safeNext(r.FormValue("next")), Now: o.now()}
	o.localise(w, r, v)
	v.Title = v.T("Log in")
	if msg != nil {
		v.Error = v.Tf(msg.format, msg.args...)
	}
	o.render(w, status, "login", v)
}

// login checks the API key of the form and starts a session.
func (o *Ops) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, web.MaxOpsLoginBody)
	if err := r.ParseForm(); err != nil {
		o.showLogin(w, r, http.StatusBadRequest, opsErrorf(http.StatusBadRequest, "the form could not be read"))
		return
	}
	c, err := r.Cookie(opsLoginCookie)
	if err != nil || !o.signer.checkCSRF(c.Value, r.PostFormValue("csrf")) {
		o.showLogin(w, r, http.StatusForbidden, opsErrorf(http.StatusForbidden, "the form has expired: try again"))
		return
	}
	key, err := o.authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("key")))
	if err != nil {
		var oe *opsError
		if errors.As(err, &oe) {
			o.showLogin(w, r, oe.status, oe)
			return
		}
		o.fail(w, r, nil, err)
		return
	}
	nonce, err := newOpsNonce()
	if err != nil {
		o.fail(w, r, nil, err)
		return
	}
	exp := o.now().Add(o.cfg.SessionTTL)
	sess := opsSession{KeyID: key.ID, Lender: key.Lender, Expires: exp.Unix(), Nonce: nonce}
	http.SetCookie(w, o.cookie(OpsSessionCookie, o.signer.seal(sess)))
	http.SetCookie(w, o.cookie(opsLoginCookie, ""))
	o.cfg.Logger.Info("ops login", "lender", key.Lender, "key", key.ID, "role", key.Role)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// authenticate finds the unrevoked key of a token nudge_<id>_<secret>.
func (o *Ops) authenticate(ctx context.Context, token string) (nudge.APIKey, error) {
	bad := opsErrorf(http.StatusUnauthorized, "that API key is not valid")
	k, err := web.Authenticate(ctx, o.cfg.Store, token)
	if errors.Is(err, web.ErrInvalidKey) {
		return nudge.APIKey{}, bad
	}
	return k, err
}

// logout ends the session.
func (o *Ops) logout(w http.ResponseWriter, r *http.Request, _ *opsPrincipal, _ *opsView) (string, error) {
	http.SetCookie(w, o.cookie(OpsSessionCookie, ""))
	http.Redirect(w, r, web.OpsPath+"/login", http.StatusSeeOther)
	return "", nil
}
