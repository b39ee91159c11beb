package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// cliSetup writes a configuration over a fresh SQLite database holding
// lender acme and returns the app and the database URL.
func cliSetup(t *testing.T) (*app, string) {
	t.Helper()
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "nudge.db")
	cfgPath := filepath.Join(dir, "nudge.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("database: "+dbURL+"\n"), 0o600))
	db, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(context.Background()))
	require.NoError(t, db.UpsertLender(context.Background(), nudge.Lender{ID: "acme", Name: "Acme"}))
	require.NoError(t, db.Close())
	return &app{configPath: cfgPath}, dbURL
}

func runCmd(t *testing.T, build func() (*cobra.Command, error), args ...string) (string, string, error) {
	t.Helper()
	cmd, err := build()
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func openTestDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

const importCSVHeader = "id,lender,borrower.name,contacts[0].channel,contacts[0].address,currency,amount_due,due_date\n"

func TestAccountsImportCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		body     string
		args     []string
		wantErr  bool
		imported []string
		report   []string
	}{
		{name: "good csv", file: "a.csv", body: importCSVHeader + "A-1,acme,Ana,email,ana@example.com,USD,10,2026-06-01\n",
			imported: []string{"A-1"}},
		{name: "all or nothing", file: "a.csv", wantErr: true,
			body: importCSVHeader + "A-1,acme,Ana,email,ana@example.com,USD,10,2026-06-01\nA-2,beta,Bo,email,bo@example.com,USD,1,2026-06-01\n" +
				"A-3,acme,Cy,email,cy@example.com,USD,x,2026-06-01\n",
			report: []string{`row 3: lender: "beta" is not the lender of this import ("acme")`, `row 4: amount_due: "x" is not a decimal amount`, "2 row(s) have problems; nothing was imported"}},
		{name: "partial", file: "a.csv", args: []string{"--partial"}, imported: []string{"A-1"},
			body:   importCSVHeader + "A-1,acme,Ana,email,ana@example.com,USD,10,2026-06-01\nA-2,acme,Bo,fax,bo@example.com,USD,1,2026-06-01\n",
			report: []string{"row 3: contacts[0].channel"}},
		{name: "ndjson by flag", file: "a.txt", args: []string{"--format", "ndjson"}, imported: []string{"J-1"},
			body: `{"id": "J-1", "lender": "acme", "borrower": {"name": "Jo"}, "contacts": [{"channel": "email", "address": "jo@example.com"}], "currency": "USD", "amount_due": "1", "due_date": "2026-06-01"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, dbURL := cliSetup(t)
			path := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(path, []byte(tt.body), 0o600))
			out, errOut, err := runCmd(t, func() (*cobra.Command, error) { return a.accountsCmd(), nil },
				append([]string{"import", path, "--lender", "acme"}, tt.args...)...)
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err, errOut)
				require.Contains(t, out, "imported")
			}
			for _, r := range tt.report {
				require.Contains(t, errOut, r)
			}
			db := openTestDB(t, dbURL)
			for _, id := range tt.imported {
				_, err := db.GetAccount(context.Background(), "acme", id)
				require.NoError(t, err)
			}
			if len(tt.imported) == 0 {
				_, err := db.GetAccount(context.Background(), "acme", "A-1")
				require.ErrorIs(t, err, nudge.ErrNotFound)
			}
		})
	}
}

func TestAccountsImportProgress(t *testing.T) {
	t.Parallel()
	a, dbURL := cliSetup(t)
	var b strings.Builder
	b.WriteString(importCSVHeader)
	for i := 0; b.Len() < progressThreshold+1; i++ {
		b.WriteString(fmt.Sprintf("L-%06d", i) + ",acme,Ana Diaz,email,ana@example.com,USD,412.50,2026-06-01\n")
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	out, errOut, err := runCmd(t, func() (*cobra.Command, error) { return a.accountsCmd(), nil }, "import", path, "--lender", "acme")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "100%")
	require.Contains(t, errOut, "] ")
	require.Contains(t, out, "imported")
	db := openTestDB(t, dbURL)
	_, err = db.GetAccount(context.Background(), "acme", "L-000000")
	require.NoError(t, err)
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	a, dbURL := cliSetup(t)
	build := func() (*cobra.Command, error) { return a.keysCmd(), nil }
	out, errOut, err := runCmd(t, build, "create", "--lender", "acme", "--role", "operator")
	require.NoError(t, err, errOut)
	token := strings.TrimSpace(out)
	id, secret, err := web.ParseAPIToken(token)
	require.NoError(t, err)
	require.Contains(t, errOut, "shown only now")

	db := openTestDB(t, dbURL)
	k, err := db.APIKeyByHash(context.Background(), web.HashSecret(secret))
	require.NoError(t, err)
	require.Equal(t, id, k.ID)
	require.Equal(t, nudge.RoleOperator, k.Role)
	require.NotContains(t, k.Hash, secret, "only the hash is stored")

	out, _, err = runCmd(t, build, "list", "--lender", "acme")
	require.NoError(t, err)
	require.Contains(t, out, id)
	require.NotContains(t, out, secret)

	_, _, err = runCmd(t, build, "revoke", id, "--lender", "acme")
	require.NoError(t, err)
	k, err = db.APIKeyByHash(context.Background(), web.HashSecret(secret))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), k.RevokedAt, time.Minute)

	for _, bad := range [][]string{
		{"create", "--lender", "acme", "--role", "root"},
		{"create", "--lender", "nobody", "--role", "viewer"},
		{"revoke", "nope", "--lender", "acme"},
	} {
		_, _, err := runCmd(t, build, bad...)
		require.Error(t, err, "%v", bad)
	}
	audit, err := db.ListAudit(context.Background(), "acme")
	require.NoError(t, err)
	require.Len(t, audit, 2, "create and revoke are audited")
	require.Equal(t, "cli", audit[0].Actor)
}

func TestAccountsImportEncoding(t *testing.T) {
	t.Parallel()
	const latin1 = importCSVHeader + "E-1,acme,Jos\xe9 Garc\xeda,email,jose@example.com,USD,10,2026-06-01\n"
	tests := []struct {
		name    string
		body    string
		args    []string
		wantErr bool
		stored  string
		report  []string
	}{
		{name: "latin1", body: latin1, args: []string{"--encoding", "latin1"}, stored: "José García"},
		{name: "latin1 alias", body: latin1, args: []string{"--encoding", "ISO-8859-1"}, stored: "José García"},
		{name: "windows-1252", body: importCSVHeader + "E-1,acme,\x93Jos\xe9\x94,email,jose@example.com,USD,10,2026-06-01\n",
			args: []string{"--encoding", "windows-1252"}, stored: "“José”"},
		{name: "gb18030", body: importCSVHeader + "E-1,acme,\xcd\xf5\xb7\xbc,email,wang@example.com,USD,10,2026-06-01\n",
			args: []string{"--encoding", "gb18030"}, stored: "王芳"},
		{name: "latin1 read as utf-8", body: latin1, wantErr: true,
			report: []string{"row 2: borrower.name: is not valid UTF-8 (byte 0xE9 at byte 4)", "encoding=latin1", "1 row(s) have problems; nothing was imported"}},
		{name: "unknown encoding", body: latin1, args: []string{"--encoding", "ebcdic"}, wantErr: true},
		{name: "json is utf-8", body: "[]", args: []string{"--encoding", "latin1", "--format", "json"}, wantErr: true,
			report: []string{"always UTF-8", "cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, dbURL := cliSetup(t)
			path := filepath.Join(t.TempDir(), "accounts.csv")
			require.NoError(t, os.WriteFile(path, []byte(tt.body), 0o600))
			out, errOut, err := runCmd(t, func() (*cobra.Command, error) { return a.accountsCmd(), nil },
				append([]string{"import", path, "--lender", "acme"}, tt.args...)...)
			for _, r := range tt.report {
				require.Contains(t, errOut, r)
			}
			db := openTestDB(t, dbURL)
			acct, getErr := db.GetAccount(context.Background(), "acme", "E-1")
			if tt.wantErr {
				require.Error(t, err)
				require.ErrorIs(t, getErr, nudge.ErrNotFound, "nothing is written")
				return
			}
			require.NoError(t, err, errOut)
			require.Contains(t, out, "imported 1 accounts")
			require.NoError(t, getErr)
			require.Equal(t, tt.stored, acct.Borrower.Name)
		})
	}
}
