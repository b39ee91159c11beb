package reply

import (
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// monthNames are English and Spanish month names and abbreviations.
var monthNames = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
	"enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
	"agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "set": 9, "octubre": 10, "noviembre": 11,
	"diciembre": 12, "dic": 12,
}

// weekdayNames are English and Spanish weekday names and abbreviations.
// Spanish "mar" (martes) is read as Tuesday only in a Spanish reply and when
// no day number follows (then it is March).
var weekdayNames = map[string]time.Weekday{
	"monday": time.Monday, "mon": time.Monday, "tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday, "weds": time.Wednesday, "thursday": time.Thursday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday, "sunday": time.Sunday, "sun": time.Sunday,
	"lunes": time.Monday, "lun": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday, "mie": time.Wednesday,
	"jueves": time.Thursday, "jue": time.Thursday, "viernes": time.Friday, "vie": time.Friday,
	"sabado": time.Saturday, "sab": time.Saturday, "domingo": time.Sunday, "dom": time.Sunday,
}

// zhWeekdays are the characters after 周/星期/礼拜.
var zhWeekdays = map[string]time.Weekday{
	"一": time.Monday, "二": time.Tuesday, "三": time.Wednesday, "四": time.Thursday, "五": time.Friday,
	"六": time.Saturday, "日": time.Sunday, "天": time.Sunday, "七": time.Sunday,
	"1": time.Monday, "2": time.Tuesday, "3": time.Wednesday, "4": time.Thursday, "5": time.Friday, "6": time.Saturday, "7": time.Sunday,
}

// weekMode says which occurrence of a weekday is meant.
type weekMode uint8

const (
	wkUpcoming  weekMode = iota // today or the next one: "friday", "el viernes", "周五"
	wkAfter                     // the next one after today: "el próximo viernes"
	wkNextWeek                  // in the next Monday-to-Sunday week: "next friday", "下周五"
	wkThisWeek                  // in this Monday-to-Sunday week: "这周五"
	wkLast                      // the last one before today: "last friday", "el viernes pasado"
	wkLastWeek                  // in the previous week: "上周五"
	wkWeekAfter                 // in the week after next: "下下周五"
)

// endOfMonth marks a relative phrase meaning the last day of this month.
const endOfMonth = 1 << 20

// relative is a phrase naming a day relative to today.
type relative struct {
	p    pattern
	days int // or endOfMonth
}

var relatives = func() []relative {
	src := []struct {
		s string
		d int
	}{
		{"day after tomorrow|tmrw|tmr", 2}, {"pasado manana", 2},
		{"today|tonight|tonite|tdy|2day|2nite|2night", 0}, {"this morning|afternoon|evening", 0},
		{"hoy", 0}, {"esta manana|tarde|noche", 0},
		{"tomorrow|tmrw|tmr|tmw|tomorow|tommorow|tommorrow|tomorrw|tmrow|2moro|2morrow|2mrw|2mro|manana", 1},
		{"yesterday", -1}, {"ayer", -1}, {"antier|anteayer|antes_de_ayer", -2},
		{"end of ?the|this month", endOfMonth}, {"month end", endOfMonth}, {"eom", endOfMonth},
		{"fin|finales|final de|del mes", endOfMonth},
		{"大后天", 3}, {"后天", 2}, {"明天|明日|明儿|明早|明晚", 1}, {"今天|今日|今晚|今儿|今早", 0},
		{"昨天|昨日|昨晚", -1}, {"前天", -2}, {"月底|月末", endOfMonth},
	}
	out := make([]relative, len(src))
	for i, s := range src {
		out[i] = relative{compile(s.s), s.d}
	}
	return out
}()

// countWords are spelled-out counts for "in three days".
var countWords = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
	"siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}

// dayUnits and weekUnits are the units of "in 3 days", "en 2 semanas".
var (
	dayUnits  = map[string]bool{"day": true, "days": true, "dia": true, "dias": true, "天": true, "日": true}
	weekUnits = map[string]bool{"week": true, "weeks": true, "wk": true, "wks": true, "semana": true, "semanas": true, "周": true}
)

// scanDates finds the dates, times and counts of the reply, in three passes
// so that the most specific reading of a token wins: full dates first, then
// relative days and weekdays, then days of the month and times.
func (p *parser) scanDates() {
	p.used = make([]bool, len(p.toks))
	p.dateAt = make([]int, len(p.toks))
	for i := range p.dateAt {
		p.dateAt[i] = -1
	}
	passes := [...]func(int) (mention, bool, int){p.fullDateAt, p.relativeAt, p.dayAt}
	for _, f := range passes {
		for i := 0; i < len(p.toks); i++ {
			if p.used[i] {
				continue
			}
			m, isDate, end := f(i)
			if end <= i || p.anyUsed(i, end) {
				continue
			}
			for j := i; j < end; j++ {
				p.used[j] = true
				if isDate {
					p.dateAt[j] = len(p.dates)
				}
			}
			if isDate {
				m.clause = p.toks[i].clause
				p.dates = append(p.dates, m)
			}
			i = end - 1
		}
	}
}

func (p *parser) anyUsed(i, end int) bool {
	for j := i; j < end && j < len(p.used); j++ {
		if p.used[j] {
			return true
		}
	}
	return false
}

// text returns the text of toks[i], or "" past the end.
func (p *parser) text(i int) string {
	if i < 0 || i >= len(p.toks) {
		return ""
	}
	return p.toks[i].text
}

// ok and bad build mentions.
func ok(d nudge.Date) mention { return mention{date: d, valid: true} }

var bad = mention{}

// validDate reports whether y-m-d exists.
func validDate(y int, m time.Month, d int) bool {
	if m < 1 || m > 12 || d < 1 || y < 1 || y > 9999 {
		return false
	}
	return d <= daysIn(y, m)
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// monthDay resolves a month and day, with year 0 when none was written. A
// year-less date already past this year means next year only when that is
// within the promise horizon; otherwise it stays in this year (and is past).
func (p *parser) monthDay(y int, m time.Month, d int) mention {
	if y != 0 {
		if !validDate(y, m, d) {
			return bad
		}
		return ok(nudge.Date{Year: y, Month: m, Day: d})
	}
	y = p.today.Year
	this := nudge.Date{Year: y, Month: m, Day: d}
	next := nudge.Date{Year: y + 1, Month: m, Day: d}
	thisOK, nextOK := validDate(y, m, d), validDate(y+1, m, d)
	switch {
	case thisOK && !this.Before(p.today):
		return ok(this)
	case nextOK && next.DaysSince(p.today) <= p.maxDays:
		return ok(next)
	case thisOK:
		return ok(this)
	}
	return bad
}

// dayOfMonth resolves a day of the month with no month: this month when the
// day has not passed, else next month. A day the month lacks ("the 31st" in
// November) is its last day.
func (p *parser) dayOfMonth(d int) mention {
	if d < 1 || d > 31 {
		return bad
	}
	y, m := p.today.Year, p.today.Month
	if c := (nudge.Date{Year: y, Month: m, Day: min(d, daysIn(y, m))}); !c.Before(p.today) {
		return ok(c)
	}
	m++
	if m > 12 {
		y, m = y+1, 1
	}
	return ok(nudge.Date{Year: y, Month: m, Day: min(d, daysIn(y, m))})
}

// weekday resolves a weekday; weeks start on Monday.
func (p *parser) weekday(wd time.Weekday, mode weekMode) mention {
	idx := func(w time.Weekday) int { return (int(w) + 6) % 7 }
	now := idx(weekdayOf(p.today))
	want := idx(wd)
	var delta int
	switch mode {
	case wkUpcoming:
		delta = (want - now + 7) % 7
	case wkAfter:
		delta = (want - now + 7) % 7
		if delta == 0 {
			delta = 7
		}
	case wkNextWeek:
		delta = 7 + want - now
	case wkThisWeek:
		delta = want - now
	case wkLast:
		delta = -((now - want + 7) % 7)
		if delta == 0 {
			delta = -7
		}
	case wkLastWeek:
		delta = want - now - 7
	case wkWeekAfter:
		delta = 14 + want - now
	}
	return ok(p.today.AddDays(delta))
}

// fullDateAt reads a date with a month: 12/05, 2026-12-05, Dec 5, 5 de
// diciembre, 12月5日, 下个月5号; and times written with a colon.
func (p *parser) fullDateAt(i int) (mention, bool, int) {
	t := p.toks[i]
	if t.kind == tNum && strings.ContainsAny(t.text, "/-:") {
		m, isDate := p.numericDate(t.text)
		return m, isDate, i + 1
	}
	if m, end := p.zhFullDate(i); end > i {
		return m, true, end
	}
	// Month name then day: "Dec 5", "December 5th, 2026", "diciembre 5".
	if mon, isMonth := monthNames[t.text]; isMonth && t.kind == tWord {
		j := i + 1
		if p.text(j) == "the" {
			j++
		}
		if d, e, found := p.dayNumber(j); found {
			y, e := p.yearAt(e)
			return p.monthDay(y, mon, d), true, e
		}
		return bad, false, 0
	}
	// Day then month: "5 Dec", "5th of December", "5 de diciembre de 2026".
	if d, e, found := p.dayNumber(i); found {
		if w := p.text(e); w == "of" || w == "de" {
			e++
		}
		if mon, isMonth := monthNames[p.text(e)]; isMonth && p.toks[e].kind == tWord {
			y, end := p.yearAt(e + 1)
			return p.monthDay(y, mon, d), true, end
		}
	}
	return bad, false, 0
}

// dayNumber reads a day number 1–31 written in digits, with an optional
// ordinal suffix ("5", "5th", "1st").
func (p *parser) dayNumber(i int) (int, int, bool) {
	if i >= len(p.toks) || p.toks[i].kind != tNum || len(p.toks[i].text) > 2 {
		return 0, i, false
	}
	d, err := strconv.Atoi(p.toks[i].text)
	if err != nil || d < 1 || d > 31 {
		return 0, i, false
	}
	e := i + 1
	if e < len(p.toks) && p.toks[e].glued && ordinalSuffixes[p.toks[e].text] {
		e++
	}
	return d, e, true
}

// yearAt reads an optional year ("2026", "de 2026", "del 2026") at toks[i].
func (p *parser) yearAt(i int) (int, int) {
	j := i
	if w := p.text(j); w == "de" || w == "del" {
		j++
	}
	if j < len(p.toks) && p.toks[j].kind == tNum && len(p.toks[j].text) == 4 {
		if y, err := strconv.Atoi(p.toks[j].text); err == nil && y >= 2000 && y <= 2099 {
			return y, j + 1
		}
	}
	return 0, i
}

// numericDate reads 12/05, 12/05/2026, 2026-12-05 or 12-05. A number with
// a colon is a time. Numbers that fit no date (a phone number such as
// 555-1234) are neither dates nor amounts.
func (p *parser) numericDate(s string) (mention, bool) {
	if strings.Contains(s, ":") {
		return bad, false
	}
	sep := "/"
	if !strings.Contains(s, "/") {
		sep = "-"
	}
	if strings.ContainsAny(s, ".,") || strings.Count(s, "/")+strings.Count(s, "-") != strings.Count(s, sep) {
		return bad, false
	}
	parts := strings.Split(s, sep)
	nums := make([]int, len(parts))
	for k, part := range parts {
		v, err := strconv.Atoi(part)
		if err != nil {
			return bad, false
		}
		nums[k] = v
	}
	switch {
	case len(parts) == 3 && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		return p.monthDay(nums[0], time.Month(nums[1]), nums[2]), true
	case len(parts) == 3 && len(parts[0]) <= 2 && len(parts[1]) <= 2 && (len(parts[2]) == 2 || len(parts[2]) == 4):
		y := nums[2]
		if len(parts[2]) == 2 {
			y += 2000
		}
		return p.orderedDate(y, nums[0], nums[1]), true
	case len(parts) == 2 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		if sep == "-" && (nums[0] > 12 && nums[1] > 12) {
			return bad, false
		}
		return p.orderedDate(0, nums[0], nums[1]), true
	}
	return bad, false
}

// orderedDate reads a/b as month/day or day/month by the borrower's locale,
// falling back to the other order when the preferred one cannot be a date.
// When both orders are dates (10/12) and the preferred reading is past, the
// mention is ambiguous: the borrower may have meant the other one, so the
// reply is asked back rather than read as a past date.
func (p *parser) orderedDate(y, a, b int) mention {
	m, d := a, b
	if !p.monthFirst {
		m, d = b, a
	}
	check := y
	if check == 0 {
		check = 2024 // a leap year: February 29 is a date in some year
	}
	both := a != b && validDate(check, time.Month(m), d) && validDate(check, time.Month(d), m)
	if !validDate(check, time.Month(m), d) {
		m, d = d, m
	}
	if !validDate(check, time.Month(m), d) {
		return bad
	}
	r := p.monthDay(y, time.Month(m), d)
	if both && r.valid && r.date.Before(p.today) {
		r.ambiguous = true
		if o := p.monthDay(y, time.Month(d), m); o.valid && !o.date.Before(p.today) {
			r.alt = o.date
		}
	}
	return r
}

// zhFullDate reads [YYYY年]M月D[日号] and 下个月/下月D[号日].
func (p *parser) zhFullDate(i int) (mention, int) {
	if hanAt(p.toks, i, "下个月") || hanAt(p.toks, i, "下月") {
		j := i + 2
		if p.text(i+1) == "个" {
			j = i + 3
		}
		d, e, found := intAt(p.toks, j)
		if !found || (p.text(e) != "号" && p.text(e) != "日") || d < 1 || d > 31 {
			return bad, 0
		}
		y, m := p.today.Year, p.today.Month+1
		if m > 12 {
			y, m = y+1, 1
		}
		return ok(nudge.Date{Year: y, Month: m, Day: min(d, daysIn(y, m))}), e + 1
	}
	for _, this := range [...]string{"这个月", "这月", "本月"} {
		if !hanAt(p.toks, i, this) {
			continue
		}
		j := i + len([]rune(this))
		d, e, found := intAt(p.toks, j)
		if !found || (p.text(e) != "号" && p.text(e) != "日") || d < 1 || d > daysIn(p.today.Year, p.today.Month) {
			return bad, 0
		}
		return ok(nudge.Date{Year: p.today.Year, Month: p.today.Month, Day: d}), e + 1
	}
	v, e, found := intAt(p.toks, i)
	if !found {
		return bad, 0
	}
	y := 0
	if p.text(e) == "年" {
		y = v
		if y < 100 {
			y += 2000
		}
		if v, e, found = intAt(p.toks, e+1); !found {
			return bad, 0
		}
	}
	if p.text(e) != "月" {
		return bad, 0
	}
	d, end, found := intAt(p.toks, e+1)
	if !found {
		return bad, 0
	}
	if w := p.text(end); w == "日" || w == "号" {
		end++
	}
	if v < 1 || v > 12 {
		return bad, end
	}
	return p.monthDay(y, time.Month(v), d), end
}

// relativeAt reads today/tomorrow words, "in 3 days" and weekdays.
func (p *parser) relativeAt(i int) (mention, bool, int) {
	t := p.toks[i]
	if t.text == "manana" && i > 0 && (p.text(i-1) == "la" || p.text(i-1) == "de") {
		// "por la mañana", "de la mañana": the morning, not tomorrow.
		return bad, false, i + 1
	}
	for _, r := range relatives {
		e, found := r.p.matchAt(p.toks, i)
		if !found {
			continue
		}
		if r.days == endOfMonth {
			return ok(nudge.Date{Year: p.today.Year, Month: p.today.Month, Day: daysIn(p.today.Year, p.today.Month)}), true, e
		}
		return ok(p.today.AddDays(r.days)), true, e
	}
	if m, end := p.inDays(i); end > i {
		return m, true, end
	}
	if m, end := p.zhWeekday(i); end > i {
		return m, true, end
	}
	wd, isDay := weekdayNames[t.text]
	if t.text == "mar" && p.spanish {
		if _, _, num := p.dayNumber(i + 1); !num {
			wd, isDay = time.Tuesday, true
		}
	}
	if !isDay || t.kind != tWord {
		return bad, false, 0
	}
	mode, end := wkUpcoming, i+1
	switch p.text(i - 1) {
	case "next":
		mode = wkNextWeek
	case "last", "past", "previous":
		mode = wkLast
	case "proximo", "siguiente":
		mode = wkAfter
	}
	switch {
	case p.text(end) == "next" && p.text(end+1) == "week":
		mode, end = wkNextWeek, end+2
	case p.text(end) == "de" && p.text(end+1) == "la" && (p.text(end+2) == "proxima" || p.text(end+2) == "siguiente") && p.text(end+3) == "semana":
		mode, end = wkNextWeek, end+4
	case p.text(end) == "de" && p.text(end+1) == "la" && p.text(end+2) == "semana" && p.text(end+3) == "que" && p.text(end+4) == "viene":
		mode, end = wkNextWeek, end+5
	case p.text(end) == "que" && p.text(end+1) == "viene", p.text(end) == "proximo":
		mode = wkAfter
	case p.text(end) == "pasado" && p.text(end+1) != "manana":
		mode, end = wkLast, end+1
	}
	// A weekday next to a full date qualifies it ("el viernes 4 de
	// diciembre", "Friday 12/4"): when they agree only the date counts.
	for _, k := range [...]int{end, end + 1, i - 1, i - 2} {
		if k < 0 || k >= len(p.toks) || p.dateAt[k] < 0 {
			continue
		}
		if d := p.dates[p.dateAt[k]]; d.valid && weekdayOf(d.date) == wd {
			return bad, false, end
		}
		break
	}
	return p.weekday(wd, mode), true, end
}

// weekdayOf returns the day of the week of d.
func weekdayOf(d nudge.Date) time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// inDays reads "in 3 days", "within a week", "3 days from now", "en 2
// semanas", "dentro de 3 días", "3天后", "三天内".
func (p *parser) inDays(i int) (mention, int) {
	j := i
	switch p.text(i) {
	case "in", "within", "en":
		j = i + 1
	case "dentro":
		if p.text(i+1) != "de" {
			return bad, 0
		}
		j = i + 2
	}
	n, e, found := intAt(p.toks, j)
	if !found && j < len(p.toks) {
		n, found = countWords[p.text(j)]
		e = j + 1
	}
	if !found || n > 366 {
		return bad, 0
	}
	unit := p.text(e)
	mult := 0
	switch {
	case dayUnits[unit]:
		mult = 1
	case weekUnits[unit]:
		mult = 7
	case unit == "个" && (p.text(e+1) == "星" || p.text(e+1) == "礼"):
		mult, e = 7, e+2 // 两个星期后, 两个礼拜后
	default:
		return bad, 0
	}
	end := e + 1
	if p.toks[e].kind == tHan {
		// Chinese puts the relation after the unit: 3天后, 3天内, 3天之后.
		k := end
		if p.text(k) == "之" || p.text(k) == "以" {
			k++
		}
		if w := p.text(k); w != "后" && w != "内" {
			return bad, 0
		}
		end = k + 1
	} else if j == i {
		// "3 days from now", "3 days from today".
		if p.text(end) != "from" || (p.text(end+1) != "now" && p.text(end+1) != "today") {
			return bad, 0
		}
		end += 2
	}
	return ok(p.today.AddDays(n * mult)), end
}

// zhWeekday reads [下个|下|这个|这|本|上个|上](周|星期|礼拜)X.
func (p *parser) zhWeekday(i int) (mention, int) {
	mode, j := wkUpcoming, i
	switch {
	case hanAt(p.toks, j, "下下个"):
		mode, j = wkWeekAfter, j+3
	case hanAt(p.toks, j, "下下"):
		mode, j = wkWeekAfter, j+2
	case hanAt(p.toks, j, "下个"):
		mode, j = wkNextWeek, j+2
	case hanAt(p.toks, j, "下"):
		mode, j = wkNextWeek, j+1
	case hanAt(p.toks, j, "这个"):
		mode, j = wkThisWeek, j+2
	case hanAt(p.toks, j, "这"), hanAt(p.toks, j, "本"):
		mode, j = wkThisWeek, j+1
	case hanAt(p.toks, j, "上个"):
		mode, j = wkLastWeek, j+2
	case hanAt(p.toks, j, "上"):
		mode, j = wkLastWeek, j+1
	}
	switch {
	case hanAt(p.toks, j, "星期"), hanAt(p.toks, j, "礼拜"), hanAt(p.toks, j, "禮拜"):
		j += 2
	case hanAt(p.toks, j, "周"), hanAt(p.toks, j, "週"):
		j++
	default:
		return bad, 0
	}
	wd, found := zhWeekdays[p.text(j)]
	if !found {
		return bad, 0
	}
	return p.weekday(wd, mode), j + 1
}

// dayAt reads a day of the month ("the 5th", "el 5", "el día 15", "5号")
// and consumes times ("5pm", "at 5", "a las 5", "3点") so that they are not
// read as amounts.
func (p *parser) dayAt(i int) (mention, bool, int) {
	t := p.toks[i]
	switch t.text {
	case "the", "el", "dia":
		j := i + 1
		if t.text == "el" && p.text(j) == "dia" {
			j++
		}
		d, e, found := p.dayNumber(j)
		if !found || p.amountFollows(e) {
			return bad, false, 0
		}
		return p.dayOfMonth(d), true, e
	case "at", "las", "la":
		if p.text(i+1) == "" || p.toks[i+1].kind != tNum {
			return bad, false, 0
		}
		if h, err := strconv.Atoi(p.toks[i+1].text); err == nil && h <= 24 && !p.amountFollows(i+2) {
			e := i + 2
			if timeSuffixes[p.text(e)] {
				e++
			}
			return bad, false, e
		}
		return bad, false, 0
	}
	if t.kind == tNum {
		d, e, found := p.dayNumber(i)
		if found && e > i+1 {
			return p.dayOfMonth(d), true, e // "5th"
		}
		if timeSuffixes[p.text(i+1)] {
			return bad, false, i + 2
		}
	}
	v, e, found := intAt(p.toks, i)
	if !found {
		return bad, false, 0
	}
	switch p.text(e) {
	case "号", "日":
		if v >= 1 && v <= 31 {
			return p.dayOfMonth(v), true, e + 1
		}
	case "点":
		e++
		if w := p.text(e); w == "半" || w == "钟" {
			e++
		}
		return bad, false, e
	}
	return bad, false, 0
}

// amountFollows reports a currency word or count unit at toks[i], which makes
// the number before it an amount or a count rather than a day.
func (p *parser) amountFollows(i int) bool {
	w := p.text(i)
	return currencyWords[w] || countUnits[w] || w == "%"
}
