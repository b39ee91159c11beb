package account

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nudgehq/nudge"
)

// rowKey is the lender and id a row names.
type rowKey struct {
	row        int
	lender, id string
}

// appendKey adds the key of the account read from row when its lender and
// id are readable, whether or not the row has other problems.
func appendKey(keys []rowKey, row int, a nudge.Account) []rowKey {
	lender, id := strings.TrimSpace(a.Lender), strings.TrimSpace(a.ID)
	if !idPattern.MatchString(lender) || !idPattern.MatchString(id) {
		return keys
	}
	return append(keys, rowKey{row: row, lender: lender, id: id})
}

// dropDuplicates reports every row naming the lender and id of an earlier
// row, good or not, and drops it from rows: an import gives each account
// once, so which of two rows the lender meant is never guessed. Problems
// come back in row order.
func dropDuplicates(rows []Parsed, keys []rowKey, ps Problems) ([]Parsed, Problems) {
	first := make(map[[2]string]int, len(keys))
	dup := map[int]bool{}
	for _, k := range keys {
		key := [2]string{k.lender, k.id}
		f, seen := first[key]
		if !seen {
			first[key] = k.row
			continue
		}
		dup[k.row] = true
		ps = append(ps, Problem{Row: k.row, Field: "id",
			Message: fmt.Sprintf("%s is also the id of row %d: an import may give each account once", quote(k.id), f)})
	}
	if len(dup) == 0 {
		return rows, ps
	}
	out := rows[:0:0]
	for _, r := range rows {
		if !dup[r.Row] {
			out = append(out, r)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Row < ps[j].Row })
	return out, ps
}
