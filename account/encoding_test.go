package account_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/account"
)

func TestParseEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want account.Encoding
		err  bool
	}{
		{name: "", want: account.UTF8},
		{name: "UTF8", want: account.UTF8},
		{name: "latin1", want: account.Latin1},
		{name: "ISO-8859-1", want: account.Latin1},
		{name: "cp1252", want: account.Windows1252},
		{name: "Windows-1252", want: account.Windows1252},
		{name: "GB18030", want: account.GB18030},
		{name: "utf-16", err: true},
		{name: "gbk", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := account.ParseEncoding(tt.name)
			if tt.err {
				require.ErrorContains(t, err, "want utf-8, latin1, windows-1252 or gb18030")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseRowsEncoded(t *testing.T) {
	t.Parallel()
	const header = "id,lender,borrower.name,contacts[0].channel,contacts[0].address,currency,amount_due,due_date\n"
	row := func(id, name string) string {
		return id + ",demo," + name + ",email,x@example.com,USD,1,2026-06-01\n"
	}
	tests := []struct {
		name        string
		contentType string
		enc         account.Encoding
		input       string
		names       []string
		problems    []string
	}{
		{name: "utf-8", input: header + row("A-1", "José García"), names: []string{"José García"}},
		{name: "latin1", enc: account.Latin1, input: header + row("A-1", "Jos\xe9 Garc\xeda"), names: []string{"José García"}},
		{name: "windows-1252", enc: account.Windows1252, input: header + row("A-1", "\x93Jos\xe9\x94 \x80"), names: []string{"“José” €"}},
		{name: "gb18030", enc: account.GB18030, input: header + row("A-1", "\xcd\xf5\xb7\xbc"), names: []string{"王芳"}},
		{name: "gb18030 byte-order mark", enc: account.GB18030, input: "\x84\x31\x95\x33" + header + row("A-1", "Wang"), names: []string{"Wang"}},
		{name: "gb18030 replacement character", enc: account.GB18030, input: header + row("A-1", "\x84\x31\xa4\x37"), names: []string{"\uFFFD"}},
		{name: "charset of the content type", contentType: "text/csv; charset=windows-1252", input: header + row("A-1", "Jos\xe9"), names: []string{"José"}},
		{
			name:  "latin-1 read as utf-8",
			input: header + row("A-1", "Ana") + row("A-2", "Jos\xe9") + row("A-3", "Bo") + row("A-4", "Garc\xeda"),
			names: []string{"Ana", "Bo"},
			problems: []string{
				"row 3: borrower.name: is not valid UTF-8 (byte 0xE9 at byte 4): if the file is not UTF-8, give its encoding (encoding=latin1, windows-1252 or gb18030)",
				"row 5: borrower.name: is not valid UTF-8 (byte 0xED at byte 5): if the file is not UTF-8, give its encoding (encoding=latin1, windows-1252 or gb18030)",
			},
		},
		{
			name: "windows-1252 read as latin1", enc: account.Latin1, input: header + row("A-1", "\x93Ana\x94"),
			problems: []string{"row 2: borrower.name: contains the control character U+0093 at character 1 (a Windows-1252 file read as Latin-1? give encoding=windows-1252)"},
		},
		{
			name: "undefined windows-1252 byte", enc: account.Windows1252, input: header + row("A-1", "Ana\x81"),
			problems: []string{"row 2: borrower.name: is not valid windows-1252 text (byte 0x81 at byte 4 is not a character)"},
		},
		{
			name: "invalid gb18030", enc: account.GB18030, input: header + row("A-1", "\xcd"),
			problems: []string{"row 2: borrower.name: is not valid gb18030 text"},
		},
		{
			name: "header not in the encoding", input: "id,lender,borrower.n\xe4me\n",
			problems: []string{"row 1: column 3: the header is not valid UTF-8 (byte 0xE4 at byte 11): if the file is not UTF-8, give its encoding (encoding=latin1, windows-1252 or gb18030)"},
		},
		{
			name: "utf-16", input: "\xff\xfei\x00d\x00",
			problems: []string{`row 1: the file is UTF-16 (Excel's "Unicode text"): save it as "CSV UTF-8" and import it again`},
		},
		{
			name: "utf-8 byte-order mark", enc: account.Windows1252, input: "\xef\xbb\xbf" + header + row("A-1", "José"),
			problems: []string{"row 1: the file starts with a UTF-8 byte-order mark, so it is UTF-8, not windows-1252: leave the encoding out"},
		},
		{
			name: "charset disagrees", contentType: "text/csv; charset=utf-8", enc: account.Latin1, input: header,
			problems: []string{"the encoding latin1 disagrees with the Content-Type charset utf-8"},
		},
		{
			name: "json", contentType: account.ContentTypeJSON, enc: account.Latin1, input: "[]",
			problems: []string{"JSON and NDJSON are always UTF-8, not latin1; the encoding applies to CSV only"},
		},
		{
			name: "unknown encoding", enc: "ebcdic", input: header,
			problems: []string{`encoding: "ebcdic" is not an encoding Nudge reads (want utf-8, latin1, windows-1252 or gb18030)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ct := tt.contentType
			if ct == "" {
				ct = account.ContentTypeCSV
			}
			rows, ps := account.ParseRowsEncoded(strings.NewReader(tt.input), ct, tt.enc)
			var names, problems []string
			for _, r := range rows {
				names = append(names, r.Account.Borrower.Name)
			}
			for _, p := range ps {
				problems = append(problems, p.String())
			}
			require.Equal(t, tt.names, names)
			require.Equal(t, tt.problems, problems)
		})
	}
}
