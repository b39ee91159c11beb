package account_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/account"
)

// oneLine is ana on one line, for NDJSON.
var oneLine = strings.ReplaceAll(ana, "\n", " ")

// TestParseRefusesWhatTheDatabaseWould checks every value a database could
// refuse, and every value Nudge refuses rather than rewrites, is reported
// in JSON with its field.
func TestParseRefusesWhatTheDatabaseWould(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string
		field    string
		says     string
	}{
		{name: "year 0000", old: `"2026-06-01"`, new: `"0000-01-01"`, field: "due_date", says: "outside the accepted range 1900-01-01 to 2200-12-31"},
		{name: "year 0001", old: `"2026-06-01"`, new: `"0001-01-01"`, field: "due_date", says: "outside"},
		{name: "year 9999", old: `"2026-06-01"`, new: `"9999-12-31"`, field: "due_date", says: "outside"},
		{name: "a day early", old: `"2026-06-01"`, new: `"1899-12-31"`, field: "due_date", says: "outside"},
		{name: "a day late", old: `"2026-06-01"`, new: `"2201-01-01"`, field: "due_date", says: "outside"},
		{name: "not a date", old: `"2026-06-01"`, new: `"06/01/2026"`, field: "due_date", says: `"06/01/2026" is not a date like 2026-06-01`},
		{name: "no such day", old: `"2026-06-01"`, new: `"2026-02-30"`, field: "due_date", says: "is not a date"},
		{name: "date as a number", old: `"2026-06-01"`, new: `20260601`, field: "due_date", says: "got a JSON number"},
		{name: "invalid utf-8", old: `"Ana García"`, new: "\"Ana Garc\xeda\"", field: "borrower.name", says: "is not valid UTF-8 (byte 0xED)"},
		{name: "invalid utf-8 in a key", old: `"portfolio"`, new: "\"portf\xf6lio\"", field: "portf\ufffdlio", says: "is not valid UTF-8"},
		{name: "unpaired surrogate", old: `"Ana García"`, new: `"Ana \udc00"`, field: "borrower.name", says: "unpaired UTF-16 surrogate"},
		{name: "nul", old: `"Ana García"`, new: `"Ana\u0000García"`, field: "borrower.name", says: "NUL"},
		{name: "control character", old: `"auto"`, new: `"au\u001bto"`, field: "portfolio", says: "U+001B"},
		{name: "C1 control character", old: `"auto"`, new: `"au\u0080to"`, field: "portfolio", says: "encoding=windows-1252"},
		{name: "long name", old: `"Ana García"`, new: `"` + strings.Repeat("a", account.MaxNameLength+1) + `"`, field: "borrower.name", says: "is 201 characters long; the limit is 200"},
		{name: "long id", old: `"L-1001"`, new: `"` + strings.Repeat("1", account.MaxIDLength+1) + `"`, field: "id", says: "the limit is 64"},
		{name: "long portfolio", old: `"auto"`, new: `"` + strings.Repeat("p", 201) + `"`, field: "portfolio", says: "the limit is 200"},
		{name: "long postal code", old: `"94103"`, new: `"` + strings.Repeat("9", 201) + `"`, field: "address.postal_code", says: "the limit is 200"},
		{name: "long hold reason", old: `"holds": []`, new: `"holds": [{"kind": "dispute", "reason": "` + strings.Repeat("r", account.MaxTextLength+1) + `"}]`,
			field: "holds[0].reason", says: "is 2001 characters long; the limit is 2000"},
		{name: "hold of the wrong type", old: `"holds": []`, new: `"holds": [5]`, field: "holds[0]", says: "got a JSON number"},
		{name: "hold with an unknown field", old: `"holds": []`, new: `"holds": [{"kind": "dispute", "why": "x"}]`, field: "holds[0].why", says: "unknown field"},
		{name: "vanity number", old: `"+12125550123", "consent"`, new: `"+1 212 555 CALL", "consent"`, field: "contacts[0].address", says: "has letters"},
		{name: "extension", old: `"+12125550123", "consent"`, new: `"+1 212 555 0123 ext. 45", "consent"`, field: "contacts[0].address", says: "has an extension (45)"},
		{name: "extension by #", old: `"+12125550123", "consent"`, new: `"+1 212 555 0123 #45", "consent"`, field: "contacts[0].address", says: "has an extension"},
		{name: "long email", old: `"Ana@Example.com"`, new: `"` + strings.Repeat("a", 250) + `@example.com"`, field: "contacts[2].address", says: "the limit is 254"},
		{name: "type error in a nested field", old: `"name": "Ana García"`, new: `"name": 5`, field: "borrower.name", says: "want string, got a JSON number"},
		{name: "syntax error", old: `"amount_due": "412.50"`, new: `"amount_due": 412.5.0`, field: "amount_due", says: "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, ana, tt.old)
			_, err := account.Parse([]byte(strings.Replace(ana, tt.old, tt.new, 1)))
			var ps account.Problems
			require.ErrorAs(t, err, &ps)
			require.Len(t, ps, 1, "%v", ps)
			require.Equal(t, tt.field, ps[0].Field, ps[0].String())
			require.Contains(t, ps[0].Message, tt.says)
			require.Less(t, len(ps[0].Message), 300, "a message never echoes a long value")
		})
	}
}

func TestParseAcceptsTheEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string
	}{
		{name: "first day", old: `"2026-06-01"`, new: `"1900-01-01"`},
		{name: "last day", old: `"2026-06-01"`, new: `"2200-12-31"`},
		{name: "longest name", old: `"Ana García"`, new: `"` + strings.Repeat("é", account.MaxNameLength) + `"`},
		{name: "longest id", old: `"L-1001"`, new: `"` + strings.Repeat("1", account.MaxIDLength) + `"`},
		{name: "a real U+FFFD", old: `"Ana García"`, new: `"Ana \ufffd ` + "\uFFFD" + `"`},
		{name: "a surrogate pair", old: `"Ana García"`, new: `"Ana \ud83d\ude00"`},
		{name: "a line break in a name", old: `"Ana García"`, new: `"Ana\nGarcía"`},
		{name: "tel: URI", old: `"+12125550123", "consent"`, new: `"tel:+1-212-555-0123", "consent"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := account.Parse([]byte(strings.Replace(ana, tt.old, tt.new, 1)))
			require.NoError(t, err)
		})
	}
}

func TestParseRowsDuplicates(t *testing.T) {
	t.Parallel()
	second := strings.Replace(oneLine, `"Ana García"`, `"Ana Second"`, 1)
	other := strings.Replace(oneLine, `"L-1001"`, `"L-1002"`, 1)
	badAmount := strings.Replace(second, `"412.50"`, `"x"`, 1)
	tests := []struct {
		name  string
		input string
		rows  []int
		want  []string
	}{
		{name: "the first is kept", input: oneLine + "\n" + other + "\n" + second + "\n" + second + "\n", rows: []int{1, 2},
			want: []string{`row 3: id: "L-1001" is also the id of row 1: an import may give each account once`,
				`row 4: id: "L-1001" is also the id of row 1: an import may give each account once`}},
		{name: "a bad first row still counts", input: badAmount + "\n" + oneLine + "\n", rows: nil,
			want: []string{`row 1: amount_due: "x" is not a decimal amount like "412.50"`,
				`row 2: id: "L-1001" is also the id of row 1: an import may give each account once`}},
		{name: "ids differ by lender", input: oneLine + "\n" + strings.Replace(oneLine, `"demo"`, `"beta"`, 1) + "\n", rows: []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, ps := account.ParseRows(strings.NewReader(tt.input), account.ContentTypeNDJSON)
			var got []int
			for _, r := range rows {
				got = append(got, r.Row)
			}
			require.Equal(t, tt.rows, got)
			var msgs []string
			for _, p := range ps {
				msgs = append(msgs, p.String())
			}
			require.Equal(t, tt.want, msgs)
		})
	}
}

// TestParseRowsOversizedDocument reads a line longer than MaxDocumentSize
// without holding it whole, names its longest field and reads on.
func TestParseRowsOversizedDocument(t *testing.T) {
	t.Parallel()
	huge := strings.Replace(oneLine, `"Ana García"`, `"`+strings.Repeat("a", account.MaxDocumentSize+10)+`"`, 1)
	next := strings.Replace(oneLine, `"L-1001"`, `"L-1002"`, 1)
	tests := []struct {
		name, contentType, input string
		row                      int
	}{
		{name: "ndjson", contentType: account.ContentTypeNDJSON, input: oneLine + "\n" + huge + "\n" + next + "\n", row: 2},
		{name: "ndjson without a last line break", contentType: account.ContentTypeNDJSON, input: huge + "\n" + next, row: 1},
		{name: "array", contentType: account.ContentTypeJSON, input: "[" + oneLine + ",\n" + huge + ",\n" + next + "]", row: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, ps := account.ParseRows(strings.NewReader(tt.input), tt.contentType)
			require.Len(t, ps, 1, "%v", ps)
			require.Equal(t, tt.row, ps[0].Row)
			require.Equal(t, "borrower.name", ps[0].Field)
			require.Contains(t, ps[0].Message, "is 1048586 characters long")
			require.Equal(t, "L-1002", rows[len(rows)-1].Account.ID, "the rows after it are read")
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, number, country string
		want, problem         string
	}{
		{name: "e164", number: "+12125550123", want: "+12125550123"},
		{name: "local", number: "(212) 555-0123", country: "US", want: "+12125550123"},
		{name: "vanity", number: "+1 212 555 CALL", problem: `"+1 212 555 CALL" has letters`},
		{name: "local vanity", number: "1-800-FLOWERS", country: "US", problem: "has letters"},
		{name: "extension", number: "+1 212 555 0123 x45", problem: "has an extension (45)"},
		{name: "extension uri", number: "+12125550123;ext=45", problem: "has an extension (45)"},
		{name: "local without country", number: "212 555 0123", problem: "is a local number"},
		{name: "too short", number: "+1212", problem: "is not a valid phone number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := account.NormalizePhone(tt.number, tt.country)
			if tt.problem != "" {
				require.ErrorContains(t, err, tt.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
