package web

import (
	"net/http"
	"net/url"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/nudgehq/nudge"
)

// sharedRedis is an asynq.RedisConnOpt handing asynqmon the process's
// existing Redis client (plain, Sentinel or the demo's in-process Redis)
// instead of a second connection pool. asynqmon's Close is never called,
// so the client stays the runtime's to close.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedRedis) MakeRedisClient() any { return s.c }

func newQueueMonitor(c redis.UniversalClient, readOnly bool) http.Handler {
	return asynqmon.New(asynqmon.Options{RootPath: OpsQueuesPath, RedisConnOpt: sharedRedis{c}, ReadOnly: readOnly})
}

// queues serves asynqmon to a logged-in key: in full mode for admins and
// read-only for operators and viewers. Changes (any method but GET and
// HEAD) are refused here too for non-admins, and need an Origin of this
// host, so another site cannot drive an admin's browser.
func (o *Ops) queues(w http.ResponseWriter, r *http.Request) {
	p, err := o.principal(r)
	if err != nil {
		if r.Method == http.MethodGet && !isMonitorAPI(r) {
			http.Redirect(w, r, OpsPath+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		http.Error(w, "log in at "+OpsPath+"/login first", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
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
	o.cfg.Logger.Info("ops queue change", "lender", p.Key.Lender, "key", p.Key.ID, "method", r.Method, "path", r.URL.Path)
	o.monitorFull.ServeHTTP(w, r)
}

func isMonitorAPI(r *http.Request) bool {
	return len(r.URL.Path) >= len(OpsQueuesPath+"/api/") && r.URL.Path[:len(OpsQueuesPath+"/api/")] == OpsQueuesPath+"/api/"
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
