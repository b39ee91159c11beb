package account_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/account"
)

var csvHeader = []string{"id", "lender", "portfolio", "borrower.name", "borrower.language", "borrower.timezone",
	"address.country", "address.region", "address.postal_code",
	"contacts[0].channel", "contacts[0].address", "contacts[0].consent",
	"contacts[1].channel", "contacts[1].address", "contacts[1].workplace",
	"currency", "amount_due", "due_date", "status", "holds"}

// csvRow returns a good row with the given cells changed.
func csvRow(id string, change map[string]string) []string {
	good := map[string]string{
		"id": id, "lender": "demo", "portfolio": "auto", "borrower.name": "Ana García", "borrower.language": "es",
		"borrower.timezone": "America/New_York", "address.country": "US", "address.region": "CA", "address.postal_code": "94103",
		"contacts[0].channel": "sms", "contacts[0].address": "+1 212 555 0123", "contacts[0].consent": "yes",
		"contacts[1].channel": "email", "contacts[1].address": "Ana@Example.com", "contacts[1].workplace": "",
		"currency": "usd", "amount_due": "412.50", "due_date": "2026-06-01", "status": "", "holds": "",
	}
	for k, v := range change {
		good[k] = v
	}
	row := make([]string, len(csvHeader))
	for i, h := range csvHeader {
		row[i] = good[h]
	}
	return row
}

func writeCSV(t *testing.T, rows [][]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	require.NoError(t, w.WriteAll(rows))
	return b.String()
}

func TestParseCSVGoodRow(t *testing.T) {
	t.Parallel()
	in := writeCSV(t, [][]string{csvHeader, csvRow("L-1", map[string]string{"holds": "dispute; hardship", "contacts[1].workplace": "false", "contacts[0].address": "(212) 555-0123"})})
	accts, ps := account.ParseCSV(strings.NewReader("\ufeff" + in))
	require.Empty(t, ps)
	require.Len(t, accts, 1)
	a := accts[0]
	require.Equal(t, "L-1", a.ID)
	require.Equal(t, "demo", a.Lender)
	require.Equal(t, &nudge.Address{Country: "US", Region: "CA", PostalCode: "94103"}, a.Address)
	require.Equal(t, []nudge.Contact{
		{Channel: nudge.SMS, Address: "+12125550123", Consent: true},
		{Channel: nudge.Email, Address: "ana@example.com"},
	}, a.Contacts)
	require.Equal(t, "USD", a.Currency)
	require.Equal(t, nudge.MustDate("2026-06-01"), a.DueDate)
	require.Equal(t, nudge.StatusActive, a.Status)
	require.Equal(t, []nudge.Hold{{Kind: nudge.HoldDispute}, {Kind: nudge.HoldHardship}}, a.Holds)
}

// BadCSVRows are twenty-three kinds of bad rows, each with the field reported.
var badCSVRows = []struct {
	name   string
	change map[string]string
	field  string
}{
	{"missing id", map[string]string{"id": ""}, "id"},
	{"bad id", map[string]string{"id": "L 1"}, "id"},
	{"missing lender", map[string]string{"lender": ""}, "lender"},
	{"missing name", map[string]string{"borrower.name": " "}, "borrower.name"},
	{"bad language", map[string]string{"borrower.language": "not a tag"}, "borrower.language"},
	{"bad time zone", map[string]string{"borrower.timezone": "Mars/Base"}, "borrower.timezone"},
	{"bad country", map[string]string{"address.country": "USA"}, "address.country"},
	{"region without country", map[string]string{"address.country": ""}, "address.country"},
	{"no contacts", map[string]string{"contacts[0].channel": "", "contacts[0].address": "", "contacts[0].consent": "", "contacts[1].channel": "", "contacts[1].address": ""}, "contacts"},
	{"bad channel", map[string]string{"contacts[0].channel": "fax"}, "contacts[0].channel"},
	{"bad phone", map[string]string{"contacts[0].address": "+1212"}, "contacts[0].address"},
	{"local number without country", map[string]string{"address.country": "", "address.region": "", "address.postal_code": "", "contacts[0].address": "(212) 555-0123"}, "contacts[0].address"},
	{"bad email", map[string]string{"contacts[1].address": "ana@"}, "contacts[1].address"},
	{"duplicate contact", map[string]string{"contacts[1].channel": "sms", "contacts[1].address": "+12125550123"}, "contacts[1].address"},
	{"workplace phone", map[string]string{"contacts[1].channel": "voice", "contacts[1].address": "+12125550123", "contacts[1].workplace": "true"}, "contacts[1].workplace"},
	{"bad boolean", map[string]string{"contacts[0].consent": "maybe"}, "contacts[0].consent"},
	{"bad currency", map[string]string{"currency": "dollars"}, "currency"},
	{"bad amount", map[string]string{"amount_due": "12.5.0"}, "amount_due"},
	{"float amount", map[string]string{"amount_due": "1e3"}, "amount_due"},
	{"missing due date", map[string]string{"due_date": ""}, "due_date"},
	{"bad due date", map[string]string{"due_date": "06/01/2026"}, "due_date"},
	{"bad status", map[string]string{"status": "late"}, "status"},
	{"bad hold", map[string]string{"holds": "dispute;vacation"}, "holds"},
}

func TestParseCSVBadRows(t *testing.T) {
	t.Parallel()
	rows := [][]string{csvHeader, csvRow("GOOD-1", nil)}
	for i, b := range badCSVRows {
		rows = append(rows, csvRow("BAD-"+string(rune('A'+i)), b.change))
	}
	rows = append(rows, []string{"too", "few"}, csvRow("GOOD-2", nil))
	accts, ps := account.ParseCSV(strings.NewReader(writeCSV(t, rows)))
	require.Len(t, accts, 2)
	require.Equal(t, "GOOD-1", accts[0].ID)
	require.Equal(t, "GOOD-2", accts[1].ID)

	byRow := map[int][]account.Problem{}
	for _, p := range ps {
		byRow[p.Row] = append(byRow[p.Row], p)
	}
	for i, b := range badCSVRows {
		line := i + 3 // the header is line 1, GOOD-1 line 2
		require.Len(t, byRow[line], 1, "%s (line %d): %v", b.name, line, byRow[line])
		require.Equal(t, b.field, byRow[line][0].Field, "%s (line %d): %v", b.name, line, byRow[line][0])
		require.NotEmpty(t, byRow[line][0].Message)
	}
	short := len(badCSVRows) + 3
	require.Len(t, byRow[short], 1)
	require.Contains(t, byRow[short][0].String(), "has 2 fields, the header has 20")
	require.Len(t, ps, len(badCSVRows)+1)
}

func TestParseCSVHeaderAndLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []string
		n     int
	}{
		{name: "empty", input: " \n", want: []string{"no accounts: the input is empty"}},
		{name: "unknown column", input: "id,lender,colour\n", want: []string{"row 1: colour: unknown column"}},
		{name: "repeated column", input: "id,id\n", want: []string{"row 1: id: the column is repeated"}},
		{name: "too many contacts", input: "id,contacts[10].address\n", want: []string{"row 1: contacts[10].address: unknown column"}},
		{name: "blank header cell", input: "id,,lender\n", want: []string{"row 1: column 2: the header names no field"}},
		{
			name: "quoted newline keeps line numbers",
			input: "id,lender,borrower.name,contacts[0].channel,contacts[0].address,currency,amount_due,due_date\n" +
				"A-1,demo,\"Ana\nGarcía\",email,ana@example.com,USD,1,2026-06-01\n" +
				"A-2,demo,Bo,email,bo@example.com,USD,x,2026-06-01\n",
			want: []string{`row 4: amount_due: "x" is not a decimal amount like "412.50"`},
			n:    1,
		},
		{name: "bare quote", input: "id,lender\nA\"1,demo\n", want: []string{`row 2: invalid CSV: bare " in non-quoted-field`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			accts, ps := account.ParseCSV(strings.NewReader(tt.input))
			require.Len(t, accts, tt.n)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseAny(t *testing.T) {
	t.Parallel()
	csvIn := writeCSV(t, [][]string{csvHeader, csvRow("L-1", nil)})
	tests := []struct {
		name, contentType, input string
		n                        int
		problem                  string
	}{
		{name: "csv", contentType: "text/csv; charset=utf-8", input: csvIn, n: 1},
		{name: "json array", contentType: "application/json", input: "[" + ana + "]", n: 1},
		{name: "ndjson", contentType: "application/x-ndjson", input: strings.ReplaceAll(ana, "\n", " ") + "\n", n: 1},
		{name: "default json", contentType: "", input: "[" + ana + "]", n: 1},
		{name: "unsupported", contentType: "application/xml", input: "<a/>", problem: `unsupported content type "application/xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.problem == "", account.Supported(tt.contentType))
			accts, ps := account.ParseAny(strings.NewReader(tt.input), tt.contentType)
			require.Len(t, accts, tt.n)
			if tt.problem == "" {
				require.Empty(t, ps)
				return
			}
			require.Len(t, ps, 1)
			require.Contains(t, ps[0].Message, tt.problem)
		})
	}
	require.Equal(t, account.ContentTypeCSV, account.ContentTypeFor("x/Accounts.CSV"))
	require.Equal(t, account.ContentTypeNDJSON, account.ContentTypeFor("a.jsonl"))
	require.Equal(t, account.ContentTypeJSON, account.ContentTypeFor("a.json"))
}

func TestParseRowsAndForLender(t *testing.T) {
	t.Parallel()
	other := strings.Replace(strings.ReplaceAll(ana, "\n", " "), `"demo"`, `"beta"`, 1)
	bad := strings.Replace(strings.ReplaceAll(ana, "\n", " "), `"412.50"`, `"x"`, 1)
	bad = strings.Replace(bad, `"L-1001"`, `"L-1002"`, 1)
	input := strings.ReplaceAll(ana, "\n", " ") + "\n\n" + other + "\n" + bad + "\n"
	rows, ps := account.ParseRows(strings.NewReader(input), account.ContentTypeNDJSON)
	require.Len(t, rows, 2)
	require.Equal(t, 1, rows[0].Row)
	require.Equal(t, 3, rows[1].Row, "NDJSON rows are lines, blank ones counted")
	accts, ps := account.ForLender(rows, "demo", ps)
	require.Len(t, accts, 1)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	require.Equal(t, []string{
		`row 3: lender: "beta" is not the lender of this import ("demo")`,
		`row 4: amount_due: "x" is not a decimal amount like "412.50"`,
	}, got)
}
