package api_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/store/storetest"
	"github.com/nudgehq/nudge/web"
	"github.com/nudgehq/nudge/web/api"
)

// refusedName is a borrower name the test makes the database itself
// refuse (a CHECK constraint on PostgreSQL, a trigger on SQLite): a value
// that passes validation yet cannot be written.
const refusedName = "Refused By The Database"

// importBackend opens a fresh, migrated store with lender acme, and a plain
// connection to the same database.
type importBackend struct {
	name string
	open func(t *testing.T) (*store.DB, *sql.DB)
}

// importBackends is SQLite always and PostgreSQL when
// NUDGE_TEST_DATABASE_URL is set; with NUDGE_TEST_REQUIRE_SERVICES=1 a
// PostgreSQL that is missing or does not answer fails the test.
func importBackends(t *testing.T) []importBackend {
	t.Helper()
	backends := []importBackend{{name: "sqlite", open: openImportSQLite}}
	admin := os.Getenv("NUDGE_TEST_DATABASE_URL")
	if admin == "" {
		if os.Getenv("NUDGE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("NUDGE_TEST_REQUIRE_SERVICES=1 but NUDGE_TEST_DATABASE_URL is not set")
		}
		t.Log("NUDGE_TEST_DATABASE_URL is unset: SQLite only")
		return backends
	}
	return append(backends, importBackend{name: "postgres", open: postgresImportOpener(t, admin)})
}

func openImportSQLite(t *testing.T) (*store.DB, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nudge.db")
	db, err := store.Open(ctx, "sqlite://"+path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.Migrate(ctx))
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, raw.Close()) })
	_, err = raw.ExecContext(ctx, `CREATE TRIGGER refuse_for_test BEFORE INSERT ON accounts
WHEN NEW.borrower_name = '`+refusedName+`'
BEGIN SELECT RAISE(ABORT, 'the test refuses this value of accounts.borrower_name'); END`)
	require.NoError(t, err)
	addImportLender(t, db)
	return db, raw
}

// postgresImportOpener creates a database for the test (dropped when it
// ends) and returns an open function giving each caller its own schema.
func postgresImportOpener(t *testing.T, admin string) func(t *testing.T) (*store.DB, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	base, err := url.Parse(storetest.PostgresDatabase(t, admin, "nudge_web_import_"))
	require.NoError(t, err)
	var mu sync.Mutex
	n := 0
	return func(t *testing.T) (*store.DB, *sql.DB) {
		t.Helper()
		mu.Lock()
		n++
		schema := fmt.Sprintf("s%d_%s", n, importSuffix(t))
		mu.Unlock()
		u := *base
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		raw, err := sql.Open("pgx", u.String())
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, raw.Close()) })
		_, err = raw.ExecContext(ctx, "CREATE SCHEMA "+schema)
		require.NoError(t, err)
		q.Set("pool_max_conns", "4")
		u.RawQuery = q.Encode()
		db, err := store.Open(ctx, u.String())
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, db.Close()) })
		require.NoError(t, db.Migrate(ctx))
		// Named accounts_borrower_name_check, as PostgreSQL names a column's check.
		_, err = raw.ExecContext(ctx, `ALTER TABLE accounts ADD CHECK (borrower_name <> '`+refusedName+`')`)
		require.NoError(t, err)
		addImportLender(t, db)
		return db, raw
	}
}

func importSuffix(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

func addImportLender(t *testing.T, db *store.DB) {
	t.Helper()
	require.NoError(t, db.UpsertLender(context.Background(), nudge.Lender{ID: "acme", Name: "ACME", Language: "en", CreatedAt: apiT0}))
}

// importServer is the lender API over db, and an operator key of acme.
func importServer(t *testing.T, db *store.DB) (*web.Server, string) {
	t.Helper()
	token, key, err := web.NewAPIKey("acme", nudge.RoleOperator, apiT0)
	require.NoError(t, err)
	require.NoError(t, db.CreateAPIKey(context.Background(), key))
	api := &api.API{Store: db, Clock: nudge.NewFixedClock(apiT0)}
	srv := web.NewServer(nil, nil)
	api.Register(srv)
	return srv, token
}

// importResponse is the answer to an import, good or not.
type importResponse struct {
	Error    string `json:"error"`
	Imported int    `json:"imported"`
	Rejected int    `json:"rejected"`
	Problems []struct {
		Row     int    `json:"row"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"problems"`
}

func postImport(t *testing.T, srv *web.Server, token, query, contentType, body string) (int, importResponse) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/accounts"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var res importResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res), rec.Body.String())
	return rec.Code, res
}

// rawRow is one account of an import, written byte for byte as given, so
// a row can hold what no encoder would write (invalid UTF-8, Latin-1).
type rawRow struct {
	id, portfolio, name, phone, due string
	// jsonName, when set, is the name as written in JSON (an escape).
	jsonName string
}

func goodRawRow(i int) rawRow {
	names := []string{"José García", "王芳", "Ana Diaz", "Zoë O'Brien"}
	return rawRow{id: fmt.Sprintf("G-%04d", i), portfolio: "auto", name: names[i%len(names)], phone: "+12125550123", due: "2026-06-20"}
}

const rawCSVHeader = "id,lender,portfolio,borrower.name,contacts[0].channel,contacts[0].address,contacts[0].consent,currency,amount_due,due_date"

func (r rawRow) csv() string {
	return strings.Join([]string{r.id, "acme", r.portfolio, r.name, "sms", r.phone, "true", "USD", "10.00", r.due}, ",")
}

func (r rawRow) json() string {
	name := r.name
	if r.jsonName != "" {
		name = r.jsonName
	}
	return `{"id": "` + r.id + `", "lender": "acme", "portfolio": "` + r.portfolio + `", "borrower": {"name": "` + name +
		`"}, "contacts": [{"channel": "sms", "address": "` + r.phone + `", "consent": true}], "currency": "USD", "amount_due": "10.00", "due_date": "` + r.due + `"}`
}

// badRawRow is a row every format must refuse, and the field it names.
type badRawRow struct {
	name  string
	row   func(first rawRow) rawRow
	field string
	// says is part of the message (in every format, or per format).
	says map[string]string
}

// badRawRows are what a reviewer tries: every value a database could
// refuse, and what Nudge refuses rather than rewrites.
var badRawRows = []badRawRow{
	{name: "year 0000", row: func(r rawRow) rawRow { r.due = "0000-01-01"; return r }, field: "due_date",
		says: map[string]string{"": "outside the accepted range 1900-01-01 to 2200-12-31"}},
	{name: "year 0001", row: func(r rawRow) rawRow { r.due = "0001-01-01"; return r }, field: "due_date"},
	{name: "year 9999", row: func(r rawRow) rawRow { r.due = "9999-12-31"; return r }, field: "due_date"},
	{name: "not a date", row: func(r rawRow) rawRow { r.due = "2026-02-30"; return r }, field: "due_date"},
	{name: "latin-1 text", row: func(r rawRow) rawRow { r.name = "Jos\xe9 Garc\xeda"; return r }, field: "borrower.name",
		says: map[string]string{"csv": "encoding=latin1", "json": "not valid UTF-8"}},
	{name: "invalid utf-8", row: func(r rawRow) rawRow { r.portfolio = "au\xc3\x28to"; return r }, field: "portfolio",
		says: map[string]string{"": "not valid UTF-8"}},
	{name: "1 MB name", row: func(r rawRow) rawRow { r.name = strings.Repeat("N", 1<<20); return r }, field: "borrower.name",
		says: map[string]string{"": "1048576 characters long"}},
	{name: "long id", row: func(r rawRow) rawRow { r.id = strings.Repeat("L", 65); return r }, field: "id",
		says: map[string]string{"": "the limit is 64"}},
	{name: "vanity number", row: func(r rawRow) rawRow { r.phone = "+1 212 555 CALL"; return r }, field: "contacts[0].address",
		says: map[string]string{"": "letters"}},
	{name: "extension", row: func(r rawRow) rawRow { r.phone = "+1 212 555 0123 ext. 45"; return r }, field: "contacts[0].address",
		says: map[string]string{"": "extension"}},
	{name: "nul", row: func(r rawRow) rawRow { r.name, r.jsonName = "Ana\x00Diaz", `Ana\u0000Diaz`; return r }, field: "borrower.name",
		says: map[string]string{"": "NUL"}},
	{name: "control character", row: func(r rawRow) rawRow { r.name, r.jsonName = "Ana\x07Diaz", `Ana\u0007Diaz`; return r }, field: "borrower.name"},
	{name: "unpaired surrogate", row: func(r rawRow) rawRow { r.name, r.jsonName = "Ana\xed\xa0\x80", `Ana\ud800`; return r }, field: "borrower.name"},
	{name: "duplicate id", row: func(r rawRow) rawRow { r.name = "Second Row With This Id"; return r }, field: "id",
		says: map[string]string{"": "is also the id of row"}},
	{name: "refused by the database", row: func(r rawRow) rawRow { r.name = refusedName; return r }, field: "borrower.name",
		says: map[string]string{"": "the database refused the account"}},
}

// importFile is an import of good rows with every bad row spread among
// them, in one format, and the row each bad row lands on.
func importFile(format string, good int) (body string, bad map[int]badRawRow, first int) {
	lines := make([]string, 0, good+len(badRawRows)+1)
	rowOf := func(i int) int { return i + 1 } // a JSON array's position, an NDJSON line
	if format == "csv" {
		lines = append(lines, rawCSVHeader)
		rowOf = func(i int) int { return i + 2 } // the header is line 1
	}
	write := func(r rawRow) {
		if format == "csv" {
			lines = append(lines, r.csv())
		} else {
			lines = append(lines, r.json())
		}
	}
	bad = map[int]badRawRow{}
	next := 0
	every := good / (len(badRawRows) + 1)
	n := 0
	for i := range good {
		write(goodRawRow(i))
		if i == 0 {
			first = rowOf(n)
		}
		n++
		if (i+1)%every == 0 && next < len(badRawRows) {
			b := badRawRows[next]
			r := goodRawRow(0) // the duplicate keeps G-0000's id
			if b.name != "duplicate id" {
				r.id = fmt.Sprintf("BAD-%02d", next)
			}
			r = b.row(r)
			bad[rowOf(n)] = b
			write(r)
			n++
			next++
		}
	}
	switch format {
	case "csv", "ndjson":
		return strings.Join(lines, "\n") + "\n", bad, first
	}
	return "[" + strings.Join(lines, ",\n") + "]", bad, first
}

// TestAPIImportExplainsEveryRow imports 2,000 good rows with every kind of
// bad row among them, through the API over a real store: every bad row is
// reported with its row and field, without partial nothing is written,
// with partial exactly the good rows are, and nothing answers 500.
func TestAPIImportExplainsEveryRow(t *testing.T) {
	t.Parallel()
	const good = 2000
	formats := []struct {
		name, contentType string
	}{
		{name: "csv", contentType: "text/csv"},
		{name: "ndjson", contentType: "application/x-ndjson"},
		{name: "json", contentType: "application/json"},
	}
	tests := []struct {
		name    string
		query   string
		code    int
		written int
	}{
		{name: "all or nothing", code: http.StatusBadRequest},
		{name: "partial", query: "?partial=true", code: http.StatusOK, written: good},
	}
	for _, backend := range importBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			for _, f := range formats {
				body, bad, first := importFile(f.name, good)
				require.Len(t, bad, len(badRawRows), "every bad row is in the file")
				for _, tt := range tests {
					t.Run(f.name+"/"+tt.name, func(t *testing.T) {
						t.Parallel()
						db, raw := backend.open(t)
						srv, token := importServer(t, db)
						code, res := postImport(t, srv, token, tt.query, f.contentType, body)
						require.Equal(t, tt.code, code, "%s: %+v", res.Error, res.Problems)

						got := map[int]string{}
						for _, p := range res.Problems {
							require.NotContains(t, got, p.Row, "one problem a row: %+v", res.Problems)
							got[p.Row] = p.Field
							b, ok := bad[p.Row]
							require.True(t, ok, "row %d is good, yet: %s: %s", p.Row, p.Field, p.Message)
							require.Equal(t, b.field, p.Field, "%s (row %d): %s", b.name, p.Row, p.Message)
							require.Less(t, len(p.Message), 400, "a message never echoes a huge value")
							for format, says := range b.says {
								if format == "" || format == f.name || (format == "json" && f.name == "ndjson") {
									require.Contains(t, p.Message, says, "%s (row %d)", b.name, p.Row)
								}
							}
							if b.name == "duplicate id" {
								require.Contains(t, p.Message, fmt.Sprintf("row %d", first), "the duplicate names the first row with its id")
							}
						}
						// The database refusal only shows once rows are written.
						want := len(bad)
						if tt.written == 0 {
							want--
						}
						require.Len(t, got, want, "every bad row is reported: %+v", res.Problems)

						var n int
						require.NoError(t, raw.QueryRowContext(context.Background(), "SELECT count(*) FROM accounts WHERE lender = 'acme'").Scan(&n))
						require.Equal(t, tt.written, n, "exactly the good rows are written")
						if tt.written == 0 {
							return
						}
						require.Equal(t, good, res.Imported)
						require.Equal(t, len(bad), res.Rejected)
						for _, i := range []int{0, 1, 3, good - 1} {
							a, err := db.GetAccount(context.Background(), "acme", goodRawRow(i).id)
							require.NoError(t, err)
							require.Equal(t, goodRawRow(i).name, a.Borrower.Name, "text is stored as sent; of two rows with one id the first")
						}
					})
				}
			}
		})
	}
}

// TestAPIImportDatabaseRefusal sends only valid rows, one of which the
// database refuses: without partial nothing is written and the answer is
// 422 naming the row; with partial the other rows are written.
func TestAPIImportDatabaseRefusal(t *testing.T) {
	t.Parallel()
	lines := []string{rawCSVHeader}
	for i := range 5 {
		r := goodRawRow(i)
		if i == 2 {
			r.name = refusedName
		}
		lines = append(lines, r.csv())
	}
	body := strings.Join(lines, "\n") + "\n"
	tests := []struct {
		name     string
		query    string
		code     int
		imported int
	}{
		{name: "all or nothing", code: http.StatusUnprocessableEntity},
		{name: "partial", query: "?partial=true", code: http.StatusOK, imported: 4},
	}
	for _, backend := range importBackends(t) {
		for _, tt := range tests {
			t.Run(backend.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				db, raw := backend.open(t)
				srv, token := importServer(t, db)
				code, res := postImport(t, srv, token, tt.query, "text/csv", body)
				require.Equal(t, tt.code, code, "%s: %+v", res.Error, res.Problems)
				require.Len(t, res.Problems, 1, "%+v", res.Problems)
				p := res.Problems[0]
				require.Equal(t, 4, p.Row, "G-0002 is on line 4")
				require.Equal(t, "borrower.name", p.Field)
				require.Contains(t, p.Message, "the database refused the account")
				require.Equal(t, tt.imported, res.Imported)
				var n int
				require.NoError(t, raw.QueryRowContext(context.Background(), "SELECT count(*) FROM accounts").Scan(&n))
				require.Equal(t, tt.imported, n)
				_, err := db.GetAccount(context.Background(), "acme", "G-0002")
				require.ErrorIs(t, err, nudge.ErrNotFound)
			})
		}
	}
}

// TestAPIImportEncoding reads a CSV in each encoding, named by the encoding
// parameter or the Content-Type charset, and refuses what does not fit.
func TestAPIImportEncoding(t *testing.T) {
	t.Parallel()
	const header = "id,lender,borrower.name,contacts[0].channel,contacts[0].address,currency,amount_due,due_date\n"
	row := func(name string) string {
		return header + "E-1,acme," + name + ",email,e@example.com,USD,1,2026-06-01\n"
	}
	tests := []struct {
		name, query, contentType, body string
		code                           int
		stored                         string
		field, says                    string
	}{
		{name: "utf-8 by default", body: row("José García"), code: http.StatusOK, stored: "José García"},
		{name: "latin1", query: "?encoding=latin1", body: row("Jos\xe9 Garc\xeda"), code: http.StatusOK, stored: "José García"},
		{name: "windows-1252", query: "?encoding=windows-1252", body: row("\x93Jos\xe9\x94 \x80"), code: http.StatusOK, stored: "“José” €"},
		{name: "gb18030", query: "?encoding=gb18030", body: row("\xcd\xf5\xb7\xbc"), code: http.StatusOK, stored: "王芳"},
		{name: "charset parameter", contentType: "text/csv; charset=ISO-8859-1", body: row("Jos\xe9"), code: http.StatusOK, stored: "José"},
		{name: "latin-1 read as utf-8", body: row("Jos\xe9"), code: http.StatusBadRequest, field: "borrower.name", says: "encoding=latin1"},
		{name: "undefined windows-1252 byte", query: "?encoding=windows-1252", body: row("Jos\x81"), code: http.StatusBadRequest, field: "borrower.name", says: "0x81"},
		{name: "invalid gb18030", query: "?encoding=gb18030", body: row("\xcd"), code: http.StatusBadRequest, field: "borrower.name", says: "gb18030"},
		{name: "unknown encoding", query: "?encoding=ebcdic", body: row("x"), code: http.StatusBadRequest, field: "encoding", says: "utf-8, latin1, windows-1252 or gb18030"},
		{name: "charset disagrees", query: "?encoding=latin1", contentType: "text/csv; charset=utf-8", body: row("x"), code: http.StatusBadRequest, says: "disagrees"},
		{name: "json is utf-8", query: "?encoding=latin1", contentType: "application/json", body: "[]", code: http.StatusBadRequest, says: "always UTF-8"},
		{name: "utf-8 bom with latin1", query: "?encoding=latin1", body: "\xef\xbb\xbf" + row("José"), code: http.StatusBadRequest, says: "byte-order mark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openImportSQLite(t)
			srv, token := importServer(t, db)
			ct := tt.contentType
			if ct == "" {
				ct = "text/csv"
			}
			code, res := postImport(t, srv, token, tt.query, ct, tt.body)
			require.Equal(t, tt.code, code, "%s: %+v", res.Error, res.Problems)
			if tt.stored != "" {
				a, err := db.GetAccount(context.Background(), "acme", "E-1")
				require.NoError(t, err)
				require.Equal(t, tt.stored, a.Borrower.Name)
				return
			}
			require.NotEmpty(t, res.Problems, res.Error)
			require.Equal(t, tt.field, res.Problems[0].Field, "%+v", res.Problems)
			require.Contains(t, res.Problems[0].Message, tt.says)
			if tt.field == "borrower.name" {
				require.Equal(t, 2, res.Problems[0].Row)
			}
		})
	}
}
