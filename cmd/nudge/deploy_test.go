package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// deployFiles are the deployment descriptions checked against the binary.
func deployFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join("..", "..", "deploy", "compose.yaml")}
	err := filepath.WalkDir(filepath.Join("..", "..", "deploy", "k8s"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	return files
}

// yamlDocs decodes every document of a YAML file into generic values.
func yamlDocs(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err, path)
		docs = append(docs, v)
	}
}

// walkYAML calls fn for every map in v, with the key that led to it.
func walkYAML(v any, key string, fn func(key string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(key, x)
		for k, c := range x {
			walkYAML(c, k, fn)
		}
	case []any:
		for _, c := range x {
			walkYAML(c, key, fn)
		}
	}
}

// TestDeployConsistentWithBinary checks that compose.yaml and the Kubernetes
// manifests only use environment variables the binary reads and subcommands it
// has, probe endpoints it serves, and give workers longer to stop than their
// shutdown timeout.
func TestDeployConsistentWithBinary(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	require.NoError(t, walkEnv(reflect.ValueOf(&Config{}).Elem(), "NUDGE", func(name string, _ reflect.Value) error {
		known[name] = true
		return nil
	}))
	commands := map[string]bool{}
	for _, c := range newRootCmd(io.Discard, io.Discard).Commands() {
		commands[c.Name()] = true
	}
	grace := Config{}.WithDefaults().Worker.ShutdownTimeout

	checkEnv := func(file, name string) {
		if strings.HasPrefix(name, "NUDGE_") {
			require.True(t, known[name], "%s: %s is not a setting of the binary", file, name)
		}
	}
	checkArgs := func(file string, args []any) {
		var words []string
		for _, a := range args {
			words = append(words, a.(string))
		}
		for i := 0; i < len(words); i++ {
			if words[i] == "--config" {
				i++
				continue
			}
			require.True(t, commands[words[i]], "%s: %q is not a nudge subcommand", file, words[i])
			return
		}
		t.Fatalf("%s: no subcommand in %v", file, words)
	}
	var sawProbe, sawGrace, sawRoles = false, false, map[string]bool{}
	for _, file := range deployFiles(t) {
		for _, doc := range yamlDocs(t, file) {
			walkYAML(doc, "", func(key string, m map[string]any) {
				switch key {
				case "environment", "data":
					for name := range m {
						checkEnv(file, name)
					}
				case "configMapRef", "secretKeyRef":
				}
				if name, ok := m["name"].(string); ok {
					if _, hasValue := m["value"]; hasValue {
						checkEnv(file, name)
					}
				}
				if lits, ok := m["literals"].([]any); ok {
					for _, l := range lits {
						name, _, _ := strings.Cut(l.(string), "=")
						checkEnv(file, name)
					}
				}
				if args, ok := m["args"].([]any); ok && m["image"] != nil {
					checkArgs(file, args)
					sawRoles[args[len(args)-1].(string)] = true
				}
				if cmd, ok := m["command"].([]any); ok && m["image"] == nil && strings.HasSuffix(file, "compose.yaml") {
					if _, isNudge := m["<<"]; isNudge || len(cmd) > 0 && cmd[0] == "--config" {
						checkArgs(file, cmd)
						sawRoles[cmd[len(cmd)-1].(string)] = true
					}
				}
				if hg, ok := m["httpGet"].(map[string]any); ok {
					require.Contains(t, []any{"/healthz", "/readyz"}, hg["path"], file)
					sawProbe = true
				}
				if g, ok := m["terminationGracePeriodSeconds"]; ok {
					require.Greater(t, time.Duration(toInt(g))*time.Second, grace, "%s: grace period must outlast worker.shutdown_timeout", file)
					sawGrace = true
				}
				if g, ok := m["stop_grace_period"].(string); ok {
					d, err := time.ParseDuration(g)
					require.NoError(t, err)
					require.Greater(t, d, grace, "%s: stop_grace_period must outlast worker.shutdown_timeout", file)
				}
			})
		}
	}
	require.True(t, sawProbe, "the manifests probe /healthz and /readyz")
	require.True(t, sawGrace, "the manifests set a termination grace period")
	for _, role := range []string{"api", "scheduler", "worker"} {
		require.True(t, sawRoles[role], "a deployment runs the %s role", role)
	}
}

// TestComposeRedisIsDurable checks the Redis settings Nudge relies on.
func TestComposeRedisIsDurable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	require.NoError(t, err)
	for _, want := range []string{`"--appendonly", "yes"`, `"--appendfsync", "everysec"`, `"--maxmemory-policy", "noeviction"`, "mailpit", "worker-1", "worker-2"} {
		require.Contains(t, string(data), want)
	}
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "redis", "redis.conf"))
	require.NoError(t, err)
	require.Contains(t, string(conf), "maxmemory-policy noeviction")
	require.Contains(t, string(conf), "appendfsync everysec")
}

func toInt(v any) int {
	switch x := v.(type) {
	case uint64:
		return int(x)
	case int64:
		return int(x)
	case int:
		return x
	case float64:
		return int(x)
	}
	return 0
}

// TestExampleConfigLoads reads deploy/nudge.example.yaml as the binary
// would: every key it shows exists and every value is accepted, the DKIM
// blocks it shows commented out too (uncommented, with a real key).
func TestExampleConfigLoads(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "deploy", "nudge.example.yaml")
	cfg, err := LoadConfig(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	_, err = cfg.HTTP.Limits()
	require.NoError(t, err)
	require.NoError(t, validateLenderVoicemails(cfg.Lenders, nil, nil))
	_, err = cfg.emailIdentities()
	require.NoError(t, err)
	require.Equal(t, "Sam Lee", cfg.Lenders[0].VoicemailCallerName)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(ed25519PEM(t)), 0o600))
	var lines []string
	inDKIM := false
	for line := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := line[:len(line)-len(trimmed)]
		switch {
		case trimmed == "# dkim:":
			inDKIM = true
		case inDKIM && strings.HasPrefix(trimmed, "#   "):
		default:
			inDKIM = false
		}
		if inDKIM {
			line = indent + strings.TrimPrefix(trimmed, "# ")
			if k, _, ok := strings.Cut(line, "private_key_file: "); ok {
				line = k + "private_key_file: " + keyFile
			}
		}
		lines = append(lines, line)
	}
	uncommented := filepath.Join(t.TempDir(), "nudge.yaml")
	require.NoError(t, os.WriteFile(uncommented, []byte(strings.Join(lines, "\n")), 0o600))
	cfg, err = LoadConfig(uncommented, func(k string) (string, bool) { return "reminders@example.com", k == "NUDGE_SMTP_FROM" })
	require.NoError(t, err)
	require.Len(t, cfg.SMTP.DKIM, 1, "the example shows a per-domain key")
	require.Len(t, cfg.Lenders[0].DKIM, 1, "the example shows a lender's key")
	_, err = cfg.emailIdentities()
	require.NoError(t, err, "the example's keys fit its From addresses")
}

// TestComposeStartsLocally: the compose file's settings with the example
// configuration pass the public_url check (its Mailpit and Twilio account
// count as real, and it allows its localhost public_url), and would not
// without the escape hatch.
func TestComposeStartsLocally(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for _, doc := range yamlDocs(t, filepath.Join("..", "..", "deploy", "compose.yaml")) {
		walkYAML(doc, "", func(key string, m map[string]any) {
			if key != "environment" {
				return
			}
			for name, v := range m {
				s := fmt.Sprint(v)
				// ${VAR:-default} is default when VAR is not set.
				if strings.HasPrefix(s, "${") && strings.Contains(s, ":-") && strings.HasSuffix(s, "}") {
					_, s, _ = strings.Cut(strings.TrimSuffix(s, "}"), ":-")
				}
				env[name] = s
			}
		})
	}
	require.Equal(t, "mailpit", env["NUDGE_SMTP_HOST"])
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := LoadConfig(filepath.Join("..", "..", "deploy", "nudge.example.yaml"), func(k string) (string, bool) {
		if k == "NUDGE_SECRET_FILE" || k == "NUDGE_TWILIO_AUTH_TOKEN_FILE" {
			return "", false // the secret files are the operator's
		}
		return lookup(k)
	})
	require.NoError(t, err)
	require.NotEmpty(t, cfg.realProviders())
	require.NoError(t, cfg.checkPublicURL())
	cfg.AllowLocalPublicURL = false
	require.ErrorContains(t, cfg.checkPublicURL(), "public_url")
}
