package compliance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
)

// messages holds one sentence per reason and language. A key "reason/suppress"
// is used instead of "reason" when that reason suppresses rather than defers.
// Placeholders: {channel} {window} {zones} {until} {hold} {date} {zone} {max}
// {period} {days}.
var messages = map[string]map[nudge.Reason]string{
	LangEnglish: {
		"":                          "The {channel} may go out now: it is within {window} local time in every candidate zone ({zones}) and no hold, opt-out or cap stands in the way.",
		nudge.ReasonQuietHours:      "Deferred until {until}: {channel} contact is allowed only between {window} local time in every candidate zone ({zones}).",
		nudge.ReasonNoCommonWindow:  "Suppressed: the borrower's candidate zones ({zones}) share no time inside the {window} window.",
		nudge.ReasonBlackout:        "Deferred until {until}: the lender does not contact borrowers on its blackout dates.",
		"blackout/suppress":         "Suppressed: every allowed time in the next 14 days falls on one of the lender's blackout dates.",
		reasonTaskSend:              "The work item may be made now: no hold, promise or account status stands in the way, and time windows and caps do not apply to it.",
		nudge.ReasonFrequencyCap:    "Deferred until {until}: the {channel} limit of {max} per {period} is reached.",
		reasonAllChannels:           "Deferred until {until}: at most {max} contacts per {period} are allowed on all channels together, and that many have been made.",
		nudge.ReasonCallCap:         "Deferred until {until}: {max} calls within {period} have already been placed, the most allowed.",
		nudge.ReasonConversation:    "Deferred until {until}: no call may be placed within {days} days after a telephone conversation with the borrower (the conversation day is day 1).",
		nudge.ReasonUnansweredCap:   "Deferred until {until}: {max} unanswered calls to this number within {period} is the limit.",
		nudge.ReasonHold:            "Suppressed: the account carries a {hold} hold, which stops {channel} contact.",
		nudge.ReasonAccountPaid:     "Suppressed: the account is paid.",
		nudge.ReasonAccountClosed:   "Suppressed: the account is closed or charged off.",
		nudge.ReasonOptedOut:        "Suppressed: this address has opted out of {channel} contact.",
		nudge.ReasonNoConsent:       "Suppressed: there is no prior express consent for {channel} contact at this number.",
		nudge.ReasonWorkplaceEmail:  "Suppressed: this email address is known to be provided by the borrower's employer.",
		nudge.ReasonPromiseActive:   "Suppressed: the borrower promised to pay by {date}, and reminders pause until then.",
		nudge.ReasonPaymentClaimed:  "Suppressed: the borrower says they have paid, and the payment awaits reconciliation.",
		nudge.ReasonNoContact:       "Suppressed: the account has no {channel} contact at this address.",
		nudge.ReasonWrongParty:      "Suppressed: this number reached someone other than the borrower.",
		nudge.ReasonUndeliverable:   "Suppressed: this address cannot be delivered to.",
		nudge.ReasonUnknownTimezone: "Suppressed: the stated time zone {zone} does not exist.",
	},
	LangSpanish: {
		"":                          "El {channel} puede enviarse ahora: está dentro del horario {window} local en todas las zonas posibles ({zones}) y no lo impide ninguna retención, baja ni límite.",
		nudge.ReasonQuietHours:      "Aplazado hasta {until}: el contacto por {channel} solo se permite entre {window} hora local en todas las zonas posibles ({zones}).",
		nudge.ReasonNoCommonWindow:  "Suprimido: las zonas horarias posibles del deudor ({zones}) no comparten ningún momento dentro del horario {window}.",
		nudge.ReasonBlackout:        "Aplazado hasta {until}: el acreedor no contacta a los deudores en sus fechas bloqueadas.",
		"blackout/suppress":         "Suprimido: todos los momentos permitidos de los próximos 14 días caen en fechas bloqueadas por el acreedor.",
		reasonTaskSend:              "La tarea puede crearse ahora: ningún bloqueo, promesa o estado de la cuenta lo impide, y los horarios y límites no se aplican a ella.",
		nudge.ReasonFrequencyCap:    "Aplazado hasta {until}: se alcanzó el límite de {channel} de {max} cada {period}.",
		reasonAllChannels:           "Aplazado hasta {until}: se permiten como máximo {max} comunicaciones cada {period} sumando todos los canales, y ya se hicieron.",
		nudge.ReasonCallCap:         "Aplazado hasta {until}: ya se hicieron {max} llamadas en {period}, el máximo permitido.",
		nudge.ReasonConversation:    "Aplazado hasta {until}: no se puede llamar durante {days} días después de una conversación telefónica con el deudor (el día de la conversación es el día 1).",
		nudge.ReasonUnansweredCap:   "Aplazado hasta {until}: el límite es de {max} llamadas sin respuesta a este número en {period}.",
		nudge.ReasonHold:            "Suprimido: la cuenta tiene una retención {hold}, que detiene el contacto por {channel}.",
		nudge.ReasonAccountPaid:     "Suprimido: la cuenta está pagada.",
		nudge.ReasonAccountClosed:   "Suprimido: la cuenta está cerrada o castigada.",
		nudge.ReasonOptedOut:        "Suprimido: esta dirección se dio de baja del contacto por {channel}.",
		nudge.ReasonNoConsent:       "Suprimido: no hay consentimiento previo expreso para el contacto por {channel} en este número.",
		nudge.ReasonWorkplaceEmail:  "Suprimido: se sabe que esta dirección de correo la proporciona el empleador del deudor.",
		nudge.ReasonPromiseActive:   "Suprimido: el deudor prometió pagar a más tardar el {date} y los recordatorios se pausan hasta entonces.",
		nudge.ReasonPaymentClaimed:  "Suprimido: el deudor dice que ya pagó y el pago está pendiente de conciliación.",
		nudge.ReasonNoContact:       "Suprimido: la cuenta no tiene un contacto de {channel} en esta dirección.",
		nudge.ReasonWrongParty:      "Suprimido: este número comunicó con alguien que no es el deudor.",
		nudge.ReasonUndeliverable:   "Suprimido: no es posible entregar mensajes a esta dirección.",
		nudge.ReasonUnknownTimezone: "Suprimido: la zona horaria indicada {zone} no existe.",
	},
	LangChinese: {
		"":                          "现在可以发送{channel}：在所有候选时区（{zones}）的当地时间{window}之内，且没有冻结、退订或频次上限的限制。",
		nudge.ReasonQuietHours:      "推迟至{until}：{channel}联系仅允许在所有候选时区（{zones}）的当地时间{window}之间进行。",
		nudge.ReasonNoCommonWindow:  "已禁止：借款人的候选时区（{zones}）在{window}时段内没有共同的时间。",
		nudge.ReasonBlackout:        "推迟至{until}：贷款机构在其禁止联系日期不联系借款人。",
		"blackout/suppress":         "已禁止：未来14天内所有允许的时间都落在贷款机构的禁止联系日期上。",
		reasonTaskSend:              "可以立即创建该人工任务：没有冻结、还款承诺或账户状态阻止，且联系时段和频次上限不适用于人工任务。",
		nudge.ReasonFrequencyCap:    "推迟至{until}：每{period}最多发送{max}次{channel}，已达到该上限。",
		reasonAllChannels:           "推迟至{until}：所有渠道合计每{period}最多联系{max}次，已达到该上限。",
		nudge.ReasonCallCap:         "推迟至{until}：{period}内已拨打{max}次电话，已达到允许的上限。",
		nudge.ReasonConversation:    "推迟至{until}：与借款人电话交谈后{days}天内不得致电（交谈当天为第1天）。",
		nudge.ReasonUnansweredCap:   "推迟至{until}：{period}内对该号码未接通的呼叫最多{max}次，已达到上限。",
		nudge.ReasonHold:            "已禁止：该账户处于{hold}冻结状态，停止{channel}联系。",
		nudge.ReasonAccountPaid:     "已禁止：该账户已结清。",
		nudge.ReasonAccountClosed:   "已禁止：该账户已关闭或已核销。",
		nudge.ReasonOptedOut:        "已禁止：该联系方式已退订{channel}联系。",
		nudge.ReasonNoConsent:       "已禁止：该号码没有事先明确同意{channel}联系。",
		nudge.ReasonWorkplaceEmail:  "已禁止：已知该邮箱地址由借款人的雇主提供。",
		nudge.ReasonPromiseActive:   "已禁止：借款人承诺在{date}前还款，提醒暂停至该日期。",
		nudge.ReasonPaymentClaimed:  "已禁止：借款人表示已还款，正在等待对账。",
		nudge.ReasonNoContact:       "已禁止：该账户在此地址没有{channel}联系方式。",
		nudge.ReasonWrongParty:      "已禁止：该号码联系到的不是借款人本人。",
		nudge.ReasonUndeliverable:   "已禁止：该联系方式无法送达。",
		nudge.ReasonUnknownTimezone: "已禁止：所填写的时区{zone}不存在。",
	},
}

// reasonAllChannels keys the sentence for a frequency cap that counts every
// channel together (a limit with an empty Channel).
const reasonAllChannels nudge.Reason = "frequency_cap/all_channels"

var channelNames = map[string]map[nudge.ChannelKind]string{
	LangEnglish: {nudge.SMS: "text message", nudge.Voice: "call", nudge.Email: "email", nudge.Task: "work item"},
	LangSpanish: {nudge.SMS: "SMS", nudge.Voice: "llamada", nudge.Email: "correo electrónico", nudge.Task: "tarea"},
	LangChinese: {nudge.SMS: "短信", nudge.Voice: "电话", nudge.Email: "邮件", nudge.Task: "人工任务"},
}

// Language returns the supported explanation language closest to tag (en, es
// or zh-CN); unknown tags give English.
func Language(tag string) string {
	t := strings.ToLower(strings.TrimSpace(tag))
	switch {
	case strings.HasPrefix(t, "es"):
		return LangSpanish
	case strings.HasPrefix(t, "zh"):
		return LangChinese
	}
	return LangEnglish
}

// Explain returns the one-sentence explanation of reason in language lang,
// with no parameters filled in beyond the reason itself. It is meant for
// listing reasons (documentation, dashboards); Decide fills in the details.
func Explain(lang string, reason nudge.Reason) string {
	return explainer{lang: lang}.sentence(reason, Suppress)
}

// explainer fills one sentence for a decision.
// collectorClause names, per language, how many of the calls a cap counted
// were placed by collectors from call_list work items (nudge.CollectorCall).
var collectorClause = map[string]string{
	LangEnglish: " %d of them by a collector from a call list.",
	LangSpanish: " %d de ellas las hizo un gestor desde una lista de llamadas.",
	LangChinese: "其中%d次由催收员通过拨打清单拨打。",
}

type explainer struct {
	lang     string
	channel  nudge.ChannelKind
	zones    []string
	window   Window
	until    time.Time
	untilLoc *time.Location
	hold     string
	date     string
	zone     string
	days     int
	capLimit *nudge.CapLimit
	// collectorCalls is how many of the attempts the cap counted were
	// collectors' calls.
	collectorCalls int
}

func (e explainer) sentence(reason nudge.Reason, action Action) string {
	lang := Language(e.lang)
	msgs := messages[lang]
	tmpl, ok := msgs[nudge.Reason(string(reason)+"/"+string(action))]
	if !ok && e.capLimit != nil && e.capLimit.Channel == "" && reason == nudge.ReasonFrequencyCap {
		tmpl, ok = msgs[reasonAllChannels]
	}
	if !ok {
		tmpl, ok = msgs[reason]
	}
	if !ok {
		tmpl = string(reason)
	}
	if e.collectorCalls > 0 && e.capLimit != nil {
		tmpl += fmt.Sprintf(collectorClause[lang], e.collectorCalls)
	}
	// Each placeholder's text is worked out only when the sentence names
	// it: a strings.Replacer built per sentence was a fifth of the bytes a
	// sent reminder allocated (BenchmarkPipelineSend).
	return expandPlaceholders(tmpl, func(name string) (string, bool) {
		switch name {
		case "channel":
			if n := channelNames[lang][e.channel]; n != "" {
				return n, true
			}
			return string(e.channel), true
		case "window":
			return e.window.String(), true
		case "zones":
			return strings.Join(e.zones, ", "), true
		case "until":
			return e.untilText(), true
		case "hold":
			return e.hold, true
		case "date":
			return e.date, true
		case "zone":
			return e.zone, true
		case "max":
			if e.capLimit == nil {
				return "", true
			}
			return strconv.Itoa(e.capLimit.Max), true
		case "period":
			if e.capLimit == nil {
				return "", true
			}
			return formatPeriod(lang, e.capLimit.Window), true
		case "days":
			return strconv.Itoa(e.days), true
		}
		return "", false
	})
}

// untilText is the instant a deferral waits for, in its zone.
func (e explainer) untilText() string {
	if e.until.IsZero() {
		return ""
	}
	loc := e.untilLoc
	if loc == nil {
		loc = time.UTC
	}
	until := e.until.In(loc).Format("2006-01-02 15:04 MST")
	if loc != time.UTC {
		until += " (" + loc.String() + ")"
	}
	return until
}

// expandPlaceholders replaces each {name} in tmpl for which value answers
// true with that answer, left to right, and leaves everything else as
// written.
func expandPlaceholders(tmpl string, value func(name string) (string, bool)) string {
	var b strings.Builder
	b.Grow(len(tmpl) + 32)
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		if j := strings.IndexAny(tmpl[1:], "{}"); j >= 0 && tmpl[1+j] == '}' {
			if v, ok := value(tmpl[1 : 1+j]); ok {
				b.WriteString(v)
				tmpl = tmpl[2+j:]
				continue
			}
		}
		b.WriteByte('{')
		tmpl = tmpl[1:]
	}
}

// formatPeriod writes a cap window as days or hours in lang.
func formatPeriod(lang string, d time.Duration) string {
	days := d / (24 * time.Hour)
	if d%(24*time.Hour) == 0 {
		switch {
		case days == 1 && lang == LangEnglish:
			return "day"
		case days == 1 && lang == LangSpanish:
			return "día"
		case days == 1:
			return "天"
		case lang == LangEnglish:
			return fmt.Sprintf("%d days", days)
		case lang == LangSpanish:
			return fmt.Sprintf("%d días", days)
		}
		return fmt.Sprintf("%d天", days)
	}
	h := int(d.Hours())
	switch lang {
	case LangEnglish:
		return fmt.Sprintf("%d hours", h)
	case LangSpanish:
		return fmt.Sprintf("%d horas", h)
	}
	return fmt.Sprintf("%d小时", h)
}

// decisionJSON is the shape `nudge explain` prints.
type decisionJSON struct {
	Action      Action       `json:"action"`
	Until       string       `json:"until,omitempty"`
	Reason      nudge.Reason `json:"reason,omitempty"`
	Rule        string       `json:"rule,omitempty"`
	Explanation string       `json:"explanation"`
	Zones       []string     `json:"zones"`
	Profile     string       `json:"profile,omitempty"`
	Applied     []string     `json:"applied,omitempty"`
	DecidedBy   string       `json:"decided_by,omitempty"`
	Overrides   []Override   `json:"overrides,omitempty"`
}

// MarshalJSON writes the decision as {"action", "until", "reason", "rule",
// "explanation", "zones", "profile", "applied", "decided_by", "overrides"}:
// until is UTC RFC 3339 and present only for a deferral; reason, profile,
// applied, decided_by and overrides are omitted when empty; zones is always
// a list.
func (d Decision) MarshalJSON() ([]byte, error) {
	j := decisionJSON{
		Action: d.Action, Reason: d.Reason, Rule: d.Rule, Explanation: d.Explanation,
		Zones: d.Zones, Profile: d.Profile, Applied: d.Applied, DecidedBy: d.DecidedBy, Overrides: d.Overrides,
	}
	if d.Action == Defer && !d.Until.IsZero() {
		j.Until = d.Until.UTC().Format(time.RFC3339)
	}
	if j.Zones == nil {
		j.Zones = []string{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Decision) UnmarshalJSON(b []byte) error {
	var j decisionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	*d = Decision{
		Action: j.Action, Reason: j.Reason, Rule: j.Rule, Explanation: j.Explanation,
		Zones: j.Zones, Profile: j.Profile, Applied: j.Applied, DecidedBy: j.DecidedBy, Overrides: j.Overrides,
	}
	if j.Until != "" {
		t, err := time.Parse(time.RFC3339, j.Until)
		if err != nil {
			return fmt.Errorf("decision until: %w", err)
		}
		d.Until = t
	}
	return nil
}

// Text writes the decision as prose for `nudge explain --text`: the
// explanation, the rule behind it, the profiles applied when there are
// several and the one that decided, and each override the decision relied on.
func (d Decision) Text() string {
	var b strings.Builder
	b.WriteString(d.Explanation)
	if d.Rule != "" {
		fmt.Fprintf(&b, " [%s]", d.Rule)
	}
	if len(d.Applied) > 1 {
		fmt.Fprintf(&b, " Profiles applied: %s; decided by %s.", strings.Join(d.Applied, ", "), d.DecidedBy)
	}
	for _, o := range d.Overrides {
		fmt.Fprintf(&b, " Override in force: %s = %s (%s).", o.Field, o.Value, o.Reason)
	}
	return b.String()
}
