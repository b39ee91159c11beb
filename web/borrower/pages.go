package borrower

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
)

// writeBorrowerPage renders a borrower-facing page (unsubscribe, self-service) in
// language lang, with headers that keep it out of caches and referrers and
// forbid scripts and framing.
func writeBorrowerPage(w http.ResponseWriter, logger *slog.Logger, page *template.Template, code int, lang string, v any) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		logger.Error("rendering page", "page", page.Name(), "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
