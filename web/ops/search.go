package ops

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/store"
	"github.com/nudgehq/nudge/web"
)

// OpsSearchLimit is how many accounts a search lists.
const OpsSearchLimit = 50

// searchData is the account search page: what was typed and what matched.
type searchData struct {
	Query   string
	Matches []store.AccountMatch
	// Searched is true once something was typed.
	Searched bool
	// More is true when there were more than OpsSearchLimit matches.
	More bool
}

// lookup searches the acting lender's accounts for what the operator typed
// in the one search box: an account id in any case, a phone number in any
// format, an email address or part of a name. One match opens the account;
// several are listed.
func (o *Ops) lookup(w http.ResponseWriter, r *http.Request, p *opsPrincipal, v *opsView) (string, error) {
	v.Title, v.Nav = v.T("Find an account"), "accounts"
	q := r.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		text = strings.TrimSpace(q.Get("id")) // the old lookup form
	}
	d := searchData{Query: text}
	v.Data = d
	if text == "" {
		return "search", nil
	}
	if len(text) > store.MaxSearchText {
		return "", opsErrorf(http.StatusBadRequest, "the search is longer than %d characters", store.MaxSearchText)
	}
	d.Searched = true
	matches, err := o.cfg.Store.SearchAccounts(r.Context(), searchFor(p.Lender, text, phoneRegions(v.Lender), OpsSearchLimit+1))
	if err != nil {
		return "", err
	}
	if len(matches) == 1 {
		http.Redirect(w, r, web.OpsPath+"/accounts/"+url.PathEscape(matches[0].Account.ID), http.StatusSeeOther)
		return "", nil
	}
	if len(matches) > OpsSearchLimit {
		matches, d.More = matches[:OpsSearchLimit], true
	}
	d.Matches = matches
	v.Data = d
	return "search", nil
}

// searchFor reads what was typed as every kind of key it could be: always
// an account id; a phone number when it has enough digits and nothing but
// phone punctuation (in E.164 for each region it may be local to); an email
// address when it has an @; a name part when it has a letter.
func searchFor(lender, text string, regions []string, limit int) store.AccountSearch {
	q := store.AccountSearch{Lender: lender, ID: text, Limit: limit}
	switch {
	case strings.Contains(text, "@"):
		q.Email = strings.ToLower(text)
	case strings.ContainsFunc(text, unicode.IsLetter):
		q.Name = text
	default:
		q.Phones = phoneCandidates(text, regions)
	}
	return q
}

// phoneCandidates returns the E.164 numbers text may stand for: itself when
// it starts with + (or 00), else the number it is in each region.
func phoneCandidates(text string, regions []string) []string {
	digits := 0
	for _, r := range text {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+()-. /", r):
		default:
			return nil
		}
	}
	if digits < 6 {
		return nil
	}
	var out []string
	add := func(region string) {
		n, err := phonenumbers.Parse(text, region)
		if err != nil || !phonenumbers.IsPossibleNumber(n) {
			return
		}
		if e := phonenumbers.Format(n, phonenumbers.E164); !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(text), "+") {
		add("")
		return out
	}
	for _, r := range regions {
		add(r)
	}
	return out
}

// phoneRegions are the regions a local number typed for lender is read in:
// those of the lender's help and agent numbers, then that of its compliance
// profile (cn: China, else the United States).
func phoneRegions(l nudge.Lender) []string {
	var out []string
	for _, num := range []string{l.HelpPhone, l.AgentPhone} {
		n, err := phonenumbers.Parse(num, "")
		if err != nil {
			continue
		}
		if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != phonenumbers.UNKNOWN_REGION && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	region := "US"
	if strings.HasPrefix(strings.ToLower(l.Profile), "cn") {
		region = "CN"
	}
	if !slices.Contains(out, region) {
		out = append(out, region)
	}
	return out
}

// SearchText is what the search box shows: the search of a search page,
// else nothing.
func (v *opsView) SearchText() string {
	if d, ok := v.Data.(searchData); ok {
		return d.Query
	}
	return ""
}
