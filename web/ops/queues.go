package ops

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// sharedRedis is an asynq.RedisConnOpt handing asynqmon the process's
// existing Redis client (plain, Sentinel or the demo's in-process Redis)
// instead of a second connection pool. asynqmon's Close is never called,
// so the client stays the runtime's to close.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedRedis) MakeRedisClient() any { return s.c }

func newQueueMonitor(c redis.UniversalClient, readOnly bool) http.Handler {
	return localFonts(asynqmon.New(asynqmon.Options{RootPath: web.OpsQueuesPath, RedisConnOpt: sharedRedis{c}, ReadOnly: readOnly}))
}

// googleFonts matches the stylesheet links asynqmon's page loads from Google
// Fonts; localFonts replaces them with the same fonts served from the binary.
var googleFonts = regexp.MustCompile(`<link rel="stylesheet" href="https://fonts\.googleapis\.com/[^"]*"/>`)

// localFonts rewrites asynqmon's HTML page so that nothing is loaded from a
// CDN: its Google Fonts links become one link to the embedded fonts.
func localFonts(next http.Handler) http.Handler {
	local := `<link rel="stylesheet" href="` + web.OpsPath + `/static/fonts/fonts.css"/>`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || isMonitorAPI(r) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferedResponse{header: http.Header{}, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		ct := rec.header.Get("Content-Type")
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		if strings.HasPrefix(ct, "text/html") {
			first := true
			body = googleFonts.ReplaceAllFunc(body, func([]byte) []byte {
				if first {
					first = false
					return []byte(local)
				}
				return nil
			})
			rec.header.Del("Content-Length")
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(body)
	})
}

// bufferedResponse holds a response so that it can be rewritten.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// queues serves asynqmon to a logged-in platform key: in full mode for
// platform admins and read-only for platform viewers. The Asynq queues are
// shared by every lender, so a lender's key (any role) is refused: its own
// queue is at /ops/queue. Changes (any method but GET and HEAD) need a
// platform admin and an Origin of this host, so another site cannot drive an
// admin's browser, and each is written to the audit log.
func (o *Ops) queues(w http.ResponseWriter, r *http.Request) {
	p, err := o.principal(r)
	if err != nil {
		if r.Method == http.MethodGet && !isMonitorAPI(r) {
			http.Redirect(w, r, web.OpsPath+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, "log in at "+web.OpsPath+"/login first", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	if !p.Key.Platform() {
		http.Error(w, "the queue monitor shows every lender's tasks and is for platform operators; your lender's queue is at "+web.OpsPath+"/queue", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if p.Key.Role == nudge.RoleAdmin {
			o.monitorFull.ServeHTTP(w, r)
		} else {
			o.monitorReadOnly.ServeHTTP(w, r)
		}
		return
	}
	if p.Key.Role != nudge.RoleAdmin {
		http.Error(w, "the queue monitor is read-only for the "+string(p.Key.Role)+" role", http.StatusForbidden)
		return
	}
	if !sameOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if err := o.cfg.Store.AppendAudit(r.Context(), nudge.AuditEntry{Lender: nudge.PlatformLender, Actor: p.Key.ID,
		Action: "queue_monitor." + strings.ToLower(r.Method), Target: strings.TrimPrefix(r.URL.Path, web.OpsQueuesPath), At: o.now()}); err != nil {
		o.cfg.Logger.Error("audit queue monitor change", "err", err)
		http.Error(w, "the change could not be recorded in the audit log, so it was not made", http.StatusServiceUnavailable)
		return
	}
	o.cfg.Logger.Info("ops queue change", "key", p.Key.ID, "method", r.Method, "path", r.URL.Path)
	o.monitorFull.ServeHTTP(w, r)
}

func isMonitorAPI(r *http.Request) bool {
	return len(r.URL.Path) >= len(web.OpsQueuesPath+"/api/") && r.URL.Path[:len(web.OpsQueuesPath+"/api/")] == web.OpsQueuesPath+"/api/"
}

// sameOrigin reports whether the request's Origin (or, without one, its
// Referer) names the host it was sent to.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	u, err := url.Parse(src)
	return err == nil && src != "" && u.Host == r.Host
}
