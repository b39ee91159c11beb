package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// lateSMSTooLong is Spanish copy that needs 3 segments with the long test
// data even transliterated.
const lateSMSTooLong = `{{.LenderName}}: Hola, {{.BorrowerName}}. No hemos recibido su pago de {{money .Amount}} que vencía el {{date .DueDate}} (hace {{template "days" .DaysLate}}). Si tuvo algún imprevisto, estamos para ayudarle. Pague o vea sus opciones: {{.Link}}{{if .Disclosure}} {{template "disclosure" .}}{{end}} {{template "optout" .}}.`

// templateDir writes a lender template directory (path → content) and a
// configuration naming it, and returns the configuration's path.
func templateDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	}
	return writeFile(t, "nudge.yaml", "templates: "+dir+"\n")
}

func TestCadenceValidateSegmentBudgets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		files  map[string]string // the lender's template directory; nil: none
		stdout []string
		stderr []string // non-empty: validation fails with exit status 1
	}{
		{
			name:   "default pack",
			stdout: []string{"2 file(s) valid", "12 SMS templates fit their budgets with long data (2 segments; transliterated: en, es)"},
		},
		{
			name:  "lender copy over its budget",
			files: map[string]string{"es/sms/late_sms.text.tmpl": lateSMSTooLong},
			stderr: []string{
				filepath.Join("es", "sms", "late_sms.text.tmpl") + ": SMS template late_sms in es needs 3 segments (GSM-7, ",
				"over its budget of 2",
				"is invalid: cadence files not checked",
			},
		},
		{
			name: "lender copy with a budget of its own",
			files: map[string]string{
				"es/sms/late_sms.text.tmpl": lateSMSTooLong,
				"pack.yaml":                 "sms:\n  templates:\n    late_sms: {max_segments: 3}\n",
			},
			stdout: []string{"2 file(s) valid", "(2 segments; own budgets: late_sms 3; transliterated: en, es)"},
		},
		{
			name:  "Spanish not transliterated",
			files: map[string]string{"pack.yaml": "sms:\n  transliterate: [en]\n"},
			stderr: []string{
				"SMS template predue_sms in es needs 5 segments (UCS-2, ",
				"transliterate es (sms.transliterate in pack.yaml)",
			},
		},
		{
			name:   "nothing transliterated, and paid for",
			files:  map[string]string{"pack.yaml": "sms:\n  max_segments: 5\n  transliterate: []\n"},
			stdout: []string{"(5 segments; transliterated: none)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"cadence", "validate", "../../examples/us-auto.yaml", "../../examples/cn-auto.yaml"}
			if tc.files != nil {
				args = append(args, "--config", templateDir(t, tc.files))
			}
			stdout, stderr, err := runCLI(t, args...)
			if len(tc.stderr) == 0 {
				require.NoError(t, err, stderr)
			} else {
				var ee exitError
				require.True(t, errors.As(err, &ee), "err = %v", err)
				require.Equal(t, 1, ee.code)
			}
			for _, w := range tc.stdout {
				require.Contains(t, stdout, w)
			}
			for _, w := range tc.stderr {
				require.Contains(t, stderr, w)
			}
		})
	}
}

func TestCadencePreviewSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lang   string
		person string
		want   []string
	}{
		{
			name: "an accented name is transliterated where the text would be over its budget", lang: "en", person: "María José Fernández-Castañeda",
			want: []string{"Hi Maria José Fernandez-Castañeda,", "segments  2 of 2 (GSM-7, 222 characters, transliterated)"},
		},
		{
			name: "a name with no GSM-7 form keeps the text UCS-2, over its budget", lang: "en", person: "欧阳娜娜 María José Fernández",
			want: []string{"Hi 欧阳娜娜 María José Fernández,", "segments  4 of 2 (UCS-2, 217 characters) OVER BUDGET; as a first contact 5 of 2 (UCS-2, 280 characters) OVER BUDGET"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(anaDoc, `"language": "es"`, `"language": "`+tc.lang+`"`, 1)
			doc = strings.Replace(doc, "Ana García", tc.person, 1)
			out, _, err := runCLI(t, "cadence", "preview", "../../examples/us-auto.yaml",
				"--account", writeFile(t, "acct.json", doc), "--at", "2026-05-20T12:00:00Z")
			require.NoError(t, err)
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
		})
	}
}
