package bench

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// instantTwilio is a stand-in for Twilio's Messages API that the worker
// processes send to: it accepts every message at once, as the in-process
// run's instantSender does, and posts no status callbacks. (The project's
// simulator, twiliosim, also delivers, answers and calls back: work that
// would compete with the workers for the machine's cores.)
type instantTwilio struct {
	url     string
	srv     *http.Server
	created atomic.Int64
}

// startInstantTwilio serves the stand-in on a free loopback port.
func startInstantTwilio() (*instantTwilio, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("stand-in Twilio: %w", err)
	}
	p := &instantTwilio{url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != scaleAccountSID || pass != scaleAuthToken || r.PathValue("AccountSid") != scaleAccountSID {
			http.Error(w, `{"code":20003,"message":"Authenticate","status":401}`, http.StatusUnauthorized)
			return
		}
		sid := fmt.Sprintf("SM%032x", p.created.Add(1))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":%q,"account_sid":%q,"status":"queued","direction":"outbound-api","api_version":"2010-04-01"}`, sid, scaleAccountSID)
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }() // ErrServerClosed at close
	return p, nil
}

// close stops serving.
func (p *instantTwilio) close() { _ = p.srv.Close() }
