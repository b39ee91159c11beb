package account_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/account"
)

// fuzzCSV is a good CSV import to start from.
const fuzzCSV = "id,lender,portfolio,borrower.name,borrower.language,borrower.timezone,address.country,address.region,address.postal_code," +
	"currency,amount_due,due_date,status,holds,contacts[0].channel,contacts[0].address,contacts[0].consent\n" +
	"L-1,demo,auto,Ana García,es,America/New_York,US,CA,94103,USD,412.50,2026-06-01,active,dispute; hardship,sms,(212) 555-0123,true\n" +
	"\"L-2\",demo,auto,\"Doe, John\",en,,US,,,USD,0,2026-06-02,,,email,John@Example.com,\n"

// FuzzParseAny feeds arbitrary bytes to the account import in each of its
// formats (JSON array, NDJSON, CSV): it never panics, every problem says
// something and names a row that exists, and every account it accepts is
// already normal (normalising it again changes nothing and finds nothing).
func FuzzParseAny(f *testing.F) {
	f.Add([]byte(ana), uint8(0))
	f.Add([]byte("["+ana+","+ana+"]"), uint8(0))
	f.Add([]byte(strings.ReplaceAll(ana, "\n", "")+"\n{}\n"+strings.ReplaceAll(ana, "\n", "")), uint8(1))
	f.Add([]byte(fuzzCSV), uint8(2))
	f.Add([]byte("\ufeff"+fuzzCSV), uint8(2))
	f.Add([]byte(`[{"id":"x","contacts":[{"channel":"sms","address":"+1"}]},1,"a",null]`), uint8(0))
	f.Add([]byte("id\n\"unterminated\n"), uint8(2))
	f.Add([]byte("contacts[9].address,contacts[0].channel\n+44 20 7946 0958,voice\n"), uint8(2))
	f.Add([]byte("[[[[[[[[[["), uint8(0))
	f.Add([]byte(""), uint8(1))
	types := []string{account.ContentTypeJSON, account.ContentTypeNDJSON, account.ContentTypeCSV, "text/csv; charset=utf-8", "", "application/xml"}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ct := types[int(kind)%len(types)]
		rows, ps := account.ParseRows(bytes.NewReader(data), ct)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, p := range ps {
			require.NotEmpty(t, p.Message, "problem %+v", p)
			require.GreaterOrEqual(t, p.Row, 0)
			require.NotEmpty(t, p.String())
		}
		for _, r := range rows {
			require.Positive(t, r.Row)
			if ct == account.ContentTypeCSV || ct == account.ContentTypeNDJSON {
				require.LessOrEqual(t, r.Row, lines, "row %d of a %d-line input", r.Row, lines)
			}
			a := r.Account
			again := a
			require.Empty(t, account.Normalize(&again), "an accepted account is valid")
			require.Equal(t, a, again, "an accepted account is already normal")
		}
		accts, ps2 := account.ParseAny(bytes.NewReader(data), ct)
		require.Len(t, accts, len(rows))
		require.Len(t, ps2, len(ps))
	})
}

// FuzzParse feeds arbitrary bytes to the single-document parser: it never
// panics, an error is always a non-empty Problems list, and an accepted
// account is normal.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ana))
	f.Add([]byte(`{"id":"L-1","unknown":1}`))
	f.Add([]byte(`{"id":"L-1"} {"id":"L-2"}`))
	f.Add([]byte(`{"due_date":"2026-02-30","amount_due":"1e9","contacts":[{"channel":"fax"}]}`))
	f.Add([]byte("null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := account.Parse(data)
		if err != nil {
			var ps account.Problems
			require.ErrorAs(t, err, &ps)
			require.NotEmpty(t, ps)
			return
		}
		again := a
		require.Empty(t, account.Normalize(&again))
		require.Equal(t, a, again)
	})
}
