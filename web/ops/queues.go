package ops

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/web"
)

// sharedRedis is an asynq.RedisConnOpt handing asynqmon the process's
// existing Redis client (one server, Sentinel, Cluster or the demo's in-process Redis)
// instead of a second connection pool. asynqmon's Close is never called,
// so the client stays the runtime's to close.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedRedis) MakeRedisClient() any { return s.c }

func newQueueMonitor(c redis.UniversalClient, readOnly bool) http.Handler {
	return monitorAssets(asynqmon.New(asynqmon.Options{RootPath: web.OpsQueuesPath, RedisConnOpt: sharedRedis{c}, ReadOnly: readOnly}))
}

// googleFonts matches the stylesheet links asynqmon's page loads from Google
// Fonts; monitorAssets replaces them with the same fonts served from the binary.
var googleFonts = regexp.MustCompile(`<link rel="stylesheet" href="https://fonts\.googleapis\.com/[^"]*"/>`)

// monitorAssetMaxAge is how long a browser keeps asynqmon's scripts and
// images: their names carry a hash of their content (static/js/main.5adda2da.chunk.js),
// and they change only with the binary, which changes the names.
const monitorAssetMaxAge = 365 * 24 * time.Hour

// monitorAssets serves asynqmon's page and files. The page is rewritten so
// that nothing is loaded from a CDN (its Google Fonts links become one link
// to the embedded fonts) and is never cached. Its files under static/ are
// cached for a year; the others (icons, manifest) carry an ETag, their
// content hash, and are revalidated. asynqmon answers a path it does not
// know with its page, so what is cached is decided by the answer's type.
func monitorAssets(next http.Handler) http.Handler {
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
		switch {
		case strings.HasPrefix(ct, "text/html"):
			rec.header.Set("Cache-Control", "no-store")
			first := true
			body = googleFonts.ReplaceAllFunc(body, func([]byte) []byte {
				if first {
					first = false
					return []byte(local)
				}
				return nil
			})
			rec.header.Del("Content-Length")
		case rec.code == http.StatusOK:
			sum := sha256.Sum256(body)
			etag := `"` + hex.EncodeToString(sum[:8]) + `"`
			rec.header.Set("ETag", etag)
			if strings.HasPrefix(r.URL.Path, web.OpsQueuesPath+"/static/") {
				rec.header.Set("Cache-Control", fmt.Sprintf("private, max-age=%d, immutable", int(monitorAssetMaxAge/time.Second)))
			} else {
				rec.header.Set("Cache-Control", "private, no-cache")
			}
			if r.Header.Get("If-None-Match") == etag {
				for k, v := range rec.header {
					w.Header()[k] = v
				}
				w.WriteHeader(http.StatusNotModified)
				return
			}
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
