package account

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nudgehq/nudge"
)

// Content types of the account file formats.
const (
	ContentTypeJSON   = "application/json"
	ContentTypeNDJSON = "application/x-ndjson"
	ContentTypeCSV    = "text/csv"
)

// MaxCSVContacts is how many contacts a CSV row may give (columns
// contacts[0].* to contacts[9].*).
const MaxCSVContacts = MaxContacts

// csvColumns are the scalar columns of an account CSV file; each is named
// by the JSON path of the field it fills, so a problem's Field names its
// column.
var csvColumns = []string{
	"id", "lender", "portfolio", "borrower.name", "borrower.language", "borrower.timezone",
	"address.country", "address.region", "address.postal_code",
	"currency", "amount_due", "due_date", "status", "holds",
}

// contactColumn matches contacts[N].part columns.
var contactColumn = regexp.MustCompile(`^contacts\[([0-9])\]\.(channel|address|consent|workplace|state)$`)

// Supported reports whether contentType (a media type, parameters allowed)
// is a format ParseAny reads: JSON (an array or NDJSON) or CSV.
func Supported(contentType string) bool {
	_, ok := formatOf(contentType)
	return ok
}

func formatOf(contentType string) (string, bool) {
	if strings.TrimSpace(contentType) == "" {
		return ContentTypeJSON, true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", false
	}
	switch mt {
	case ContentTypeJSON, ContentTypeNDJSON, "application/ndjson", "application/jsonl", "application/jsonlines":
		return ContentTypeJSON, true
	case ContentTypeCSV, "application/csv":
		return ContentTypeCSV, true
	}
	return "", false
}

// ContentTypeFor returns the content type of an account file by its
// extension: .csv is CSV, .ndjson and .jsonl are NDJSON, anything else JSON.
func ContentTypeFor(filename string) string {
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".csv":
		return ContentTypeCSV
	case ".ndjson", ".jsonl":
		return ContentTypeNDJSON
	}
	return ContentTypeJSON
}

// ParseAny reads accounts in the format named by contentType: CSV for
// text/csv, otherwise a JSON array or NDJSON (see ParseMany). It returns the
// good accounts and every problem, each naming its row.
func ParseAny(r io.Reader, contentType string) ([]nudge.Account, Problems) {
	rows, ps := ParseRows(r, contentType)
	return accountsOf(rows), ps
}

// Parsed is one good account and the row it was read from.
type Parsed struct {
	// Row is the account's position in a JSON array, its NDJSON line, or
	// the line its CSV record starts on.
	Row     int
	Account nudge.Account
}

// ParseRows is ParseAny keeping the row of every good account, so a caller
// checking more (such as the lender) can report a row too. A CSV file is
// read in the encoding its content type's charset names, UTF-8 by default.
func ParseRows(r io.Reader, contentType string) ([]Parsed, Problems) {
	return ParseRowsEncoded(r, contentType, "")
}

// ParseRowsEncoded is ParseRows for a CSV file in enc (see Encodings; empty
// means the content type's charset, else UTF-8). JSON and NDJSON are always
// UTF-8 and refuse any other encoding. A cell that is not valid in the
// encoding is a problem of its row and column, never replaced.
//
// Within one import each account (lender and id) may appear once: every
// later row with the same id is a problem naming the first.
func ParseRowsEncoded(r io.Reader, contentType string, enc Encoding) ([]Parsed, Problems) {
	format, ok := formatOf(contentType)
	if !ok {
		return nil, Problems{{Message: fmt.Sprintf("unsupported content type %s (want %s, %s or %s)",
			quote(contentType), ContentTypeJSON, ContentTypeNDJSON, ContentTypeCSV)}}
	}
	enc, p := encodingFor(contentType, format, enc)
	if p != nil {
		return nil, Problems{*p}
	}
	var (
		rows []Parsed
		keys []rowKey
		ps   Problems
	)
	if format == ContentTypeCSV {
		rows, keys, ps = parseCSVRows(r, enc)
	} else {
		rows, keys, ps = parseJSONRows(r)
	}
	return dropDuplicates(rows, keys, ps)
}

// ForLender keeps the accounts of lender and reports every other one as a
// problem of its row and the lender field. Problems come back in row order.
func ForLender(rows []Parsed, lender string, ps Problems) ([]nudge.Account, Problems) {
	kept, ps := ForLenderRows(rows, lender, ps)
	return accountsOf(kept), ps
}

// ForLenderRows is ForLender keeping the row of every account, so a
// refusal of the store can name its row too.
func ForLenderRows(rows []Parsed, lender string, ps Problems) ([]Parsed, Problems) {
	out := make([]Parsed, 0, len(rows))
	for _, p := range rows {
		if p.Account.Lender != lender {
			ps = append(ps, Problem{Row: p.Row, Field: "lender",
				Message: fmt.Sprintf("%s is not the lender of this import (%s)", quote(p.Account.Lender), quote(lender))})
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Row < ps[j].Row })
	return out, ps
}

// accountsOf returns the accounts of rows, in order.
func accountsOf(rows []Parsed) []nudge.Account {
	if rows == nil {
		return nil
	}
	out := make([]nudge.Account, len(rows))
	for i, p := range rows {
		out[i] = p.Account
	}
	return out
}

// ParseCSV reads accounts from UTF-8 CSV with a header row (see
// ParseRowsEncoded for other encodings). Columns are named by the JSON path
// of the field they fill (id, lender, borrower.name, address.country,
// contacts[0].channel, contacts[0].address, contacts[0].consent, …; see
// docs/accounts.md); holds is a list of hold kinds separated by ";".
// Booleans are true/false, yes/no or 1/0; an empty cell leaves the field out.
//
// A problem's Row is the line of the file the record starts on (the header
// is line 1), as a spreadsheet numbers it; its Field is the column at fault.
// A header with an unknown or repeated column is refused as a whole.
func ParseCSV(r io.Reader) ([]nudge.Account, Problems) {
	return ParseAny(r, ContentTypeCSV)
}

// Byte-order marks a CSV file may start with.
var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// parseCSVRows reads CSV in enc. It returns the good accounts with their
// rows, the key of every row whose lender and id could be read (good or
// not), and every problem.
func parseCSVRows(r io.Reader, enc Encoding) ([]Parsed, []rowKey, Problems) {
	br := bufio.NewReader(r)
	if _, err := peekNonSpace(br); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, Problems{{Message: "no accounts: the input is empty"}}
		}
		return nil, nil, Problems{{Message: err.Error()}}
	}
	if start, _ := br.Peek(3); bytes.HasPrefix(start, utf16LEBOM) || bytes.HasPrefix(start, utf16BEBOM) {
		return nil, nil, Problems{{Row: 1, Message: "the file is UTF-16 (Excel's \"Unicode text\"): save it as \"CSV UTF-8\" and import it again"}}
	} else if enc != UTF8 && bytes.HasPrefix(start, utf8BOM) {
		return nil, nil, Problems{{Row: 1, Message: fmt.Sprintf("the file starts with a UTF-8 byte-order mark, so it is UTF-8, not %s: leave the encoding out", enc)}}
	}
	decode := enc.decoder()
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, nil, Problems{{Row: 1, Message: fmt.Sprintf("reading the header: %v", err)}}
	}
	var ps Problems
	for i, h := range header {
		text, msg := decode(h)
		if msg != "" {
			ps = append(ps, Problem{Row: 1, Field: fmt.Sprintf("column %d", i+1), Message: "the header " + msg})
		}
		header[i] = text
	}
	if len(ps) > 0 {
		return nil, nil, ps
	}
	cols, ps := csvHeader(header)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	var (
		out  []Parsed
		keys []rowKey
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			ps = append(ps, Problem{Row: pe.StartLine, Message: fmt.Sprintf("invalid CSV: %v", pe.Err)})
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				// The reader cannot tell where the broken record ends.
				return out, keys, ps
			}
			continue
		}
		if err != nil {
			ps = append(ps, Problem{Message: fmt.Sprintf("reading: %v", err)})
			return out, keys, ps
		}
		row, _ := cr.FieldPos(0)
		if len(rec) != len(cols) {
			p := Problem{Row: row, Message: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(cols))}
			if len(rec) < len(cols) {
				p.Field = cols[len(rec)].name
				p.Message += " (this is the first column missing)"
			} else {
				p.Field = fmt.Sprintf("column %d", len(cols)+1)
				p.Message += " (this is the first column too many)"
			}
			ps = append(ps, p)
			continue
		}
		a, p := csvAccount(cols, rec, decode)
		keys = appendKey(keys, row, a)
		if len(p) > 0 {
			for i := range p {
				p[i].Row = row
			}
			ps = append(ps, p...)
			continue
		}
		out = append(out, Parsed{Row: row, Account: a})
	}
	return out, keys, ps
}

// csvCol is what one header column fills.
type csvCol struct {
	name    string
	contact int    // contact index for contacts[N].* columns, else -1
	part    string // channel, address, consent, workplace or state
}

func csvHeader(header []string) ([]csvCol, Problems) {
	var ps Problems
	cols := make([]csvCol, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark written by spreadsheets
		}
		h = strings.TrimSpace(h)
		c := csvCol{name: h, contact: -1}
		switch {
		case h == "":
			ps = append(ps, Problem{Row: 1, Field: fmt.Sprintf("column %d", i+1), Message: "the header names no field"})
		case seen[h]:
			ps = append(ps, Problem{Row: 1, Field: h, Message: "the column is repeated"})
		case contactColumn.MatchString(h):
			m := contactColumn.FindStringSubmatch(h)
			c.contact, _ = strconv.Atoi(m[1])
			c.part = m[2]
		case !isCSVColumn(h):
			ps = append(ps, Problem{Row: 1, Field: h, Message: "unknown column"})
		}
		seen[h] = true
		cols[i] = c
	}
	return cols, ps
}

func isCSVColumn(name string) bool {
	for _, c := range csvColumns {
		if c == name {
			return true
		}
	}
	return false
}

// parseBool reads a CSV boolean; an empty cell is false.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "no", "n", "0":
		return false, true
	case "true", "yes", "y", "1":
		return true, true
	}
	return false, false
}

// csvAccount builds and normalises the account of one record, its cells
// read with decode.
func csvAccount(cols []csvCol, rec []string, decode cellDecoder) (nudge.Account, Problems) {
	var (
		a        nudge.Account
		ps       Problems
		addr     nudge.Address
		hasAddr  bool
		contacts [MaxCSVContacts]nudge.Contact
		present  [MaxCSVContacts]bool
	)
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for i, c := range cols {
		v, msg := decode(rec[i])
		if msg != "" {
			bad(c.name, "%s", msg)
		}
		if c.contact >= 0 {
			if strings.TrimSpace(v) == "" {
				continue
			}
			ct := &contacts[c.contact]
			present[c.contact] = true
			switch c.part {
			case "channel":
				ct.Channel = nudge.ChannelKind(strings.ToLower(strings.TrimSpace(v)))
			case "address":
				ct.Address = v
			case "state":
				ct.State = nudge.ContactState(strings.TrimSpace(v))
			case "consent", "workplace":
				b, ok := parseBool(v)
				if !ok && msg == "" {
					bad(c.name, "%s is not a boolean (want true or false)", quote(v))
				}
				if c.part == "consent" {
					ct.Consent = b
				} else {
					ct.Workplace = b
				}
			}
			continue
		}
		switch c.name {
		case "id":
			a.ID = v
		case "lender":
			a.Lender = v
		case "portfolio":
			a.Portfolio = v
		case "borrower.name":
			a.Borrower.Name = v
		case "borrower.language":
			a.Borrower.Language = v
		case "borrower.timezone":
			a.Borrower.Timezone = v
		case "address.country":
			addr.Country, hasAddr = v, hasAddr || strings.TrimSpace(v) != ""
		case "address.region":
			addr.Region, hasAddr = v, hasAddr || strings.TrimSpace(v) != ""
		case "address.postal_code":
			addr.PostalCode, hasAddr = v, hasAddr || strings.TrimSpace(v) != ""
		case "currency":
			a.Currency = v
		case "amount_due":
			a.AmountDue = v
		case "due_date":
			if s := strings.TrimSpace(v); s != "" && msg == "" {
				d, err := nudge.ParseDate(s)
				if err != nil {
					bad("due_date", "%s is not a date like 2026-06-01", quote(s))
				}
				a.DueDate = d
			}
		case "status":
			a.Status = nudge.AccountStatus(strings.TrimSpace(v))
		case "holds":
			for _, k := range strings.Split(v, ";") {
				if k = strings.TrimSpace(k); k != "" {
					a.Holds = append(a.Holds, nudge.Hold{Kind: nudge.HoldKind(k)})
				}
			}
		}
	}
	if hasAddr {
		a.Address = &addr
	}
	// Contacts keep their column numbers in problems even when a row skips one.
	var index []int
	for i := range contacts {
		if present[i] {
			a.Contacts = append(a.Contacts, contacts[i])
			index = append(index, i)
		}
	}
	// A column already reported (unreadable, or not in the encoding) is
	// not reported again for what Normalize makes of it.
	reported := map[string]bool{}
	for _, p := range ps {
		reported[p.Field] = true
	}
	for _, p := range Normalize(&a) {
		if rest, ok := strings.CutPrefix(p.Field, "contacts["); ok {
			if j, tail, ok := strings.Cut(rest, "]"); ok {
				if k, err := strconv.Atoi(j); err == nil && k < len(index) {
					p.Field = fmt.Sprintf("contacts[%d]%s", index[k], tail)
				}
			}
		}
		if strings.HasPrefix(p.Field, "holds[") {
			p.Field = "holds"
		}
		if reported[p.Field] {
			continue
		}
		ps = append(ps, p)
	}
	return a, ps
}
