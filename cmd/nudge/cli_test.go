package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runCLI runs the nudge command line in-process with args and returns its
// output and error. Its deadline is generous: under -race, beside the
// other parallel tests on two cores, a forecast of two days took over 30 s.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

const anaDoc = `{"id": "L-1001", "lender": "demo", "portfolio": "auto",
 "borrower": {"name": "Ana García", "language": "es", "timezone": "America/New_York"},
 "address": {"country": "US", "region": "CA", "postal_code": "94103"},
 "contacts": [{"channel": "sms", "address": "+12125550123", "consent": true},
              {"channel": "voice", "address": "+12125550123", "consent": true},
              {"channel": "email", "address": "ana@example.com", "workplace": false}],
 "currency": "USD", "amount_due": "412.50", "due_date": "2026-06-01",
 "status": "active", "holds": []}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestCadenceValidateCommand(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "cadence", "validate", "../../examples/us-auto.yaml", "../../examples/cn-auto.yaml")
	require.NoError(t, err)
	require.Contains(t, out, "2 file(s) valid")

	_, stderr, err := runCLI(t, "cadence", "validate", "../../schedules/testdata/bad/five-mistakes.yaml")
	var ee exitError
	require.True(t, errors.As(err, &ee), "err = %v", err)
	require.Equal(t, 1, ee.code)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Len(t, lines, 5, stderr)
	for _, l := range lines {
		require.Regexp(t, `^\.\./\.\./schedules/testdata/bad/five-mistakes\.yaml:\d+:\d+: `, l)
	}
}

func TestCadenceSchemaCommand(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "cadence", "schema")
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &schema))
	require.Contains(t, out, `"steps"`)
}

func TestCadencePreviewCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, lang, file, want string
		segments               string
	}{
		// í is not in GSM-7: as written the text is UCS-2 and over its
		// budget, so the default pack transliterates it (García → Garcia).
		{name: "Spanish", lang: "es", file: "us-auto.yaml", want: "Ana Garcia, su pago de $412.50 vence el 1 de junio de 2026",
			segments: "segments  2 of 2 (GSM-7, 195 characters, transliterated); as a first contact 2 of 2 (GSM-7, 260 characters, transliterated)"},
		{name: "English", lang: "en", file: "us-auto.yaml", want: "Hi Ana Garcia, your payment of $412.50 is due June 1, 2026",
			segments: "segments  2 of 2 (GSM-7, 202 characters, transliterated); as a first contact 2 of 2 (GSM-7, 265 characters, transliterated)"},
		{name: "Chinese", lang: "zh-CN", file: "cn-auto.yaml", want: "Ana García您好，您的还款US$412.50将于2026年6月1日到期。", segments: "segments  2 of 2 (UCS-2, "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(anaDoc, `"language": "es"`, `"language": "`+tt.lang+`"`, 1)
			out, _, err := runCLI(t, "cadence", "preview", "../../examples/"+tt.file,
				"--account", writeFile(t, "acct.json", doc), "--at", "2026-05-20T12:00:00Z")
			require.NoError(t, err)
			require.Contains(t, out, tt.want)
			require.Contains(t, out, "step      predue-sms (day -3)")
			require.Contains(t, out, "segments  ")
			require.Contains(t, out, tt.segments)
			require.Contains(t, out, "locale "+tt.lang)
		})
	}
}

func TestExplainCommand(t *testing.T) {
	t.Parallel()
	acct := writeFile(t, "acct.json", anaDoc)
	// Spring forward in New York: the phone says Eastern, the address California,
	// so texting opens at 08:00 Pacific (15:00 UTC on 2026-03-08).
	out, _, err := runCLI(t, "explain", "--account", acct, "--channel", "sms", "--at", "2026-03-08T12:00:00Z")
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	require.Equal(t, "defer", d["action"])
	require.Equal(t, "2026-03-08T15:00:00Z", d["until"])
	require.Equal(t, "quiet_hours", d["reason"])
	require.Equal(t, "12 CFR 1006.6(b)(1)(i)", d["rule"])
	require.Equal(t, []any{"America/Los_Angeles", "America/New_York"}, d["zones"])

	out, _, err = runCLI(t, "explain", "--account", acct, "--channel", "email", "--at", "2026-03-09T18:00:00Z", "--text")
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(out))

	history := writeFile(t, "history.ndjson", `{"channel":"sms","status":"delivered","at":"2026-03-09T16:00:00Z","address":"+12125550123"}`+"\n")
	out, _, err = runCLI(t, "explain", "--account", acct, "--channel", "sms", "--at", "2026-03-09T18:00:00Z", "--history", history)
	require.NoError(t, err)
	require.Contains(t, out, `"reason": "frequency_cap"`)

	_, _, err = runCLI(t, "explain", "--account", acct, "--channel", "fax")
	require.ErrorContains(t, err, `--channel: unknown channel "fax"`)
}

// TestWorkerDefaultsAreTheReadmes keeps the worker settings a
// configuration without a worker section gets equal to those the README's
// example shows: the binary once ran 20 tasks at once while the README, the
// deploy example and the bench said 64.
func TestWorkerDefaultsAreTheReadmes(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var line string
	for l := range strings.Lines(string(readme)) {
		if strings.HasPrefix(l, "worker: {") {
			line, _, _ = strings.Cut(l, "#")
		}
	}
	require.NotEmpty(t, line, "the README's example configuration has no worker line")
	documented, err := LoadConfig(writeFile(t, "nudge.yaml", line), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	defaults, err := LoadConfig(writeFile(t, "empty.yaml", "{}\n"), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Equal(t, documented.Worker.Concurrency, defaults.Worker.Concurrency)
	require.Equal(t, documented.Worker.ShutdownTimeout, defaults.Worker.ShutdownTimeout)
}

func TestConfigFileEnvironmentAndSecretFiles(t *testing.T) {
	t.Parallel()
	secret := writeFile(t, "token", "s3cret-token\n")
	cfgPath := writeFile(t, "nudge.yaml", `database: sqlite:///var/lib/nudge.db
redis: {addr: "redis:6379"}
twilio: {account_sid: AC00000000000000000000000000000000, auth_token_file: `+secret+`}
worker: {concurrency: 5}
`)
	env := map[string]string{"NUDGE_REDIS_ADDR": "10.0.0.1:6379", "NUDGE_WORKER_SHUTDOWN_TIMEOUT": "40s", "NUDGE_PROFILES": "a.yaml, b.yaml"}
	cfg, err := LoadConfig(cfgPath, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.Equal(t, "10.0.0.1:6379", cfg.Redis.Addr, "the environment wins over the file")
	require.Equal(t, 5, cfg.Worker.Concurrency)
	require.Equal(t, 40*time.Second, cfg.Worker.ShutdownTimeout)
	require.Equal(t, "s3cret-token", cfg.Twilio.AuthToken, "secrets come from *_file")
	require.Equal(t, []string{"a.yaml", "b.yaml"}, cfg.Profiles)
	require.Equal(t, "@every 1m", cfg.Scheduler.Spec, "defaults fill the rest")

	bad := writeFile(t, "bad.yaml", "database: x\nredis:\n  hostname: y\n")
	_, err = LoadConfig(bad, func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "hostname")

	_, err = LoadConfig("", func(k string) (string, bool) { return "many", k == "NUDGE_WORKER_CONCURRENCY" })
	require.ErrorContains(t, err, "NUDGE_WORKER_CONCURRENCY")
}

func TestServeWithoutRedisRefusesToStart(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "nudge.yaml", "database: sqlite://"+filepath.Join(t.TempDir(), "n.db")+"\n")
	_, _, err := runCLI(t, "--config", cfg, "serve")
	require.ErrorContains(t, err, "no Redis configured")
	require.ErrorContains(t, err, "never falls back to an in-memory Redis")
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "nudge.yaml", "database: sqlite://"+filepath.Join(t.TempDir(), "n.db")+"\n")
	out, _, err := runCLI(t, "--config", cfg, "migrate")
	require.NoError(t, err)
	require.Contains(t, out, "migrations applied (sqlite)")
	out, _, err = runCLI(t, "--config", cfg, "migrate")
	require.NoError(t, err, "migrating twice is harmless")
	require.Contains(t, out, "migrations applied")

	out, _, err = runCLI(t, "version")
	require.NoError(t, err)
	require.Equal(t, "nudge dev\n", out)
}

func TestCadencePreviewTaskSteps(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "cadence", "preview", "../../schedules/testdata/good/task-steps.yaml",
		"--account", writeFile(t, "acct.json", anaDoc), "--at", "2026-05-20T12:00:00Z")
	require.NoError(t, err)
	require.Contains(t, out, "channel       task, kind call_list")
	require.Contains(t, out, "instructions  Call the borrower; offer a payment plan.")
	require.Contains(t, out, "work item made 2026-06-16 11:00 EDT", "a call list waits for the call window")
	require.Contains(t, out, "kind repossession_review")
}
