package bench

import (
	"fmt"
	"math/rand/v2"
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
	url string
	srv *http.Server
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
		sid := nextSID()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":%q,"account_sid":%q,"status":"queued","direction":"outbound-api","api_version":"2010-04-01"}`, sid, scaleAccountSID)
	})
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }() // ErrServerClosed at close
	return p, nil
}

// sidRun and sidSeq make the stand-ins' message SIDs: "SM" and 32 hex
// digits, as Twilio's, and never the same twice, as Twilio's, across the
// in-process and worker-process runs of one bench (which share a database)
// and across benches on a database kept with --reset-database=false. A SID
// given twice would name two attempts, and every status callback for it
// would find and lock both.
var (
	sidRun = rand.Uint64()
	sidSeq atomic.Uint64
)

// nextSID returns a message SID never given before.
func nextSID() string { return fmt.Sprintf("SM%016x%016x", sidRun, sidSeq.Add(1)) }

// close stops serving.
func (p *instantTwilio) close() { _ = p.srv.Close() }
