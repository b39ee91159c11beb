package ops

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/nudgehq/nudge/web"
)

// staticFiles serves the console's own files (stylesheet, script, fonts)
// from the binary. Each has an ETag, its content hash, so a browser
// revalidates it cheaply; a URL made by url (with ?v= and the hash) may be
// kept for a year, since a new binary with other content has another URL.
type staticFiles struct {
	prefix string
	files  map[string]staticFile
}

type staticFile struct {
	body  []byte
	hash  string
	ctype string
}

// staticMaxAge is how long a versioned static URL may be cached.
const staticMaxAge = 365 * 24 * time.Hour

// opsStatic are the console's static files, read once from the binary.
var opsStatic = func() *staticFiles {
	sub, err := fs.Sub(opsStaticFS, "static")
	if err == nil {
		var s *staticFiles
		if s, err = newStaticFiles(sub, web.OpsPath+"/static/"); err == nil {
			return s
		}
	}
	panic(fmt.Sprintf("ops: static files: %v", err)) // the files are embedded: only a broken build gets here
}()

// staticURL is the template function static: the versioned URL of a
// static file.
func staticURL(name string) (string, error) { return opsStatic.url(name) }

func newStaticFiles(fsys fs.FS, prefix string) (*staticFiles, error) {
	s := &staticFiles{prefix: prefix, files: map[string]staticFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(b)
		}
		s.files[name] = staticFile{body: b, hash: hex.EncodeToString(sum[:8]), ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// url returns the versioned URL of a static file.
func (s *staticFiles) url(name string) (string, error) {
	f, ok := s.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %s", name)
	}
	return s.prefix + name + "?v=" + f.hash, nil
}

// ServeHTTP serves a file with its ETag, answering If-None-Match with 304.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[strings.TrimPrefix(r.URL.Path, s.prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, immutable", int(staticMaxAge/time.Second)))
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
