package web

import (
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinSize is the smallest response body worth compressing, in bytes.
const compressMinSize = 512

// compressible reports whether a response of content type ct gets smaller
// when compressed: text (HTML, CSS, JavaScript, CSV, event streams), JSON,
// XML (TwiML, SVG) and uncompressed fonts. Images, archives, audio, video
// and WOFF fonts are compressed already.
func compressible(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(ct))
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/javascript", mt == "application/xml",
		mt == "application/manifest+json", mt == "image/svg+xml", mt == "image/x-icon", mt == "image/vnd.microsoft.icon",
		mt == "font/ttf", mt == "font/otf", mt == "application/wasm":
		return true
	case strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// compress wraps h so that responses whose type compresses are sent gzip
// (or zstd) encoded to clients that accept it, with Vary: Accept-Encoding
// on every response. A response that set its own Content-Encoding (the
// metrics endpoint compresses itself) passes untouched; a flushed response
// (a stream) is flushed through the encoder. Responses that may carry a
// secret beside text from the request (CSRF tokens in forms) get a few
// bytes of random-looking padding, derived from the content, so that
// their compressed size does not reveal the secret (BREACH).
func compress(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.ContentTypeFilter(compressible),
		gzhttp.RandomJitter(32, 0, false),
	)
	if err != nil {
		panic("web: compression: " + err.Error()) // the options are constants: only a broken build gets here
	}
	return wrap(h)
}
