package reply

import (
	"slices"

	"github.com/nudgehq/nudge"
)

// scope is the set of channels a revocation phrase names.
type scope uint8

const (
	scSMS      scope = 1 << iota // texts
	scVoice                      // calls
	scEmail                      // emails
	scMessages                   // messages of no named kind: emails when the reply is an email, else texts
	scSelf                       // no channel named: the channel the reply came on
	scAll      = scSMS | scVoice | scEmail
)

// scoped is a phrase and the channels it names.
type scoped struct {
	p  pattern
	sc scope
}

// compileScoped compiles each source with scope sc.
func compileScoped(sc scope, srcs ...string) []scoped {
	out := make([]scoped, len(srcs))
	for i, s := range srcs {
		out[i] = scoped{compile(s), sc}
	}
	return out
}

// revocations revoke consent in a sentence (47 CFR 64.1200(a)(10): "any
// reasonable means"), each for the channels it names. At each word the first
// phrase that matches wins, so the phrases naming emails come before the
// ones that would read "no me mandes correos" as texts, and requests to stop
// all contact before "别打" (calls) would read 别打扰 (don't disturb).
var revocations = slices.Concat(
	compileScoped(scEmail,
		"stop|quit|cease|halt emailing|e_mailing|mailing",
		"stop|quit|cease|halt sending ?me|us ?any ?more ?the|these|those|your emails|email|e_mails|e_mail|mail",
		"don't|dont|do_not|never email|e_mail ?me|us",
		"don't|dont|do_not|never send ?me|us ?any ?more emails|email|e_mails|mail",
		"no more emails|email|e_mails|mail",
		"i_don't|i_dont|i_do_not want|wish ?to ?any ?receive|get ?any ?more emails|email|e_mails",
		"unsubscribe|remove|take me|us from|off ?of ?your|the|this|all email|e_mail|mailing list|lists",
		"no me|nos escriban|escribas|escriba|envien|envies|envie|manden|mandes|mande ?mas correos|correo|emails|email|mails",
		"dejen|deja|dejar|deje|dejes ?de enviar|enviarme|enviarnos|mandar|mandarme|mandarnos|escribir|escribirme ?mas correos|correo|emails|email|mails",
		"no mas|mas correos|emails|mails",
		"no quiero|deseo ?recibir ?mas correos|emails|mails",
		"别|不要|不用|勿 ?再 ?给我 ?再 发 ?电子 邮件|邮箱|电邮",
		"停止 发送|发 ?电子 邮件", "不想 ?再 收到 ?电子 邮件", "退订|拒收 ?电子 邮件",
	),
	compileScoped(scAll,
		"stop|quit|cease|halt contacting|contact|bothering|harassing|harrassing|harassment|pestering ?me|us",
		"stop|quit|cease|halt|end all communication|communications|contact|contacts|correspondence",
		"stop|cease communicating|communication|communications with me|us",
		"don't|dont|do_not|never contact|bother|harass|harrass|pester ?me|us",
		"no more contact|contacting", "leave me|us alone", "cease_and_desist",
		"i_don't|i_dont|i_do_not want|wish to be contacted",
		"dejenme|dejame|dejeme|dejanos|dejennos|dejen|deja|deje ?ya en paz",
		"no me|nos contacten|contactes|contacte|molesten|molestes|moleste|busquen|busques|acosen|acoses|hostiguen",
		"dejen|deja|dejar|deje|dejes ?de contactar|contactarme|contactarnos|molestar|molestarme|molestarnos|acosar|acosarme|acosarnos|buscarme|hostigarme",
		"no quiero|deseo que me|nos contacten|molesten|busquen",
		"no quiero|deseo ?ningun|mas contacto",
		"no me|nos vuelvan|vuelvas|vuelva a contactar|molestar|buscar",
		"cese|cesen|detengan|suspendan ?toda ?la comunicacion|comunicaciones|contacto",
		"basta de molestar|molestarme|acosar|acosarme|contactar|contactarme|acoso",
		"别|不要|不用|请勿|勿 ?再 ?给我|跟我 ?再 联系|骚扰|打扰|烦|找",
		"停止 联系|催收|骚扰|打扰", "不想 ?再 被 联系|骚扰|打扰",
	),
	compileScoped(scVoice,
		"stop|quit|cease|halt calling|calls|call|ringing|phoning|robocalling|robocalls|robocall|dialing",
		"stop|quit|end the|these|those|your|all calls|robocalls|phone_calls",
		"don't|dont|do_not|never call|ring|phone|robocall|dial ?me|us",
		"no more calls|call|robocalls|phone_calls|calling",
		"i_don't|i_dont|i_do_not want|wish ?to ?any ?receive|get ?any ?more calls|phone_calls|robocalls",
		"opt|opting out of|from ?the|your|all calls|robocalls|phone_calls",
		"no me|nos llamen|llames|llame|marquen|marques|marque|hablen|hables",
		"dejen|deja|dejar|deje|dejes ?de llamar|llamarme|llamarnos|marcar|marcarme|marcarnos|hablarme",
		"no mas|mas llamadas",
		"no quiero|deseo ?recibir ?mas llamadas",
		"no me|nos vuelvan|vuelvas|vuelva a llamar|marcar",
		"basta de llamadas|llamar|llamarme",
		"别|不要|不用|勿 ?再 ?给我 ?再 打|来电",
		"停止 打 ?电话", "停止 来电|呼叫", "不想 ?再 接到 ?电话",
	),
	compileScoped(scSMS,
		"stop|quit|cease|halt texting|text|texts|txting|txt|txts|sms",
		"stop|quit|cease|halt sending ?me|us ?any ?more ?the|these|those|your texts|text|txts|sms|text_messages",
		"don't|dont|do_not|never text|txt|sms ?me|us",
		"no more texts|text|txts|sms|text_messages",
		"i_don't|i_dont|i_do_not want|wish ?to ?any ?receive|get ?any ?more texts|text_messages|sms",
		"opt|opting out of|from ?the|your|all texts|text_messages|sms",
		"no me|nos textees|texteen|textee",
		"no mas|mas textos|sms|mensajes_de_texto",
		"dejen|deja|dejar|deje|dejes ?de textear|textearme",
		"别|不要|不用|勿 ?再 ?给我 ?再 发 短信",
		"停止 发送|发 短信", "不想 ?再 收到 短信", "退订|拒收 短信",
	),
	compileScoped(scMessages,
		"stop|quit|cease|halt messaging|messages|msgs|sending",
		"don't|dont|do_not|never message|msg|send ?me|us",
		"no more messages|message|msgs|msg",
		"i_don't|i_dont|i_do_not want|wish ?to ?any ?receive|get ?any ?more messages|msgs",
		"no me|nos escriban|escribas|escriba|envien|envies|envie|manden|mandes|mande",
		"dejen|deja|dejar|deje|dejes ?de escribir|escribirme|escribirnos|enviar|enviarme|enviarnos|mandar|mandarme|mandarnos",
		"no mas|mas mensajes|msjs|msj|mensajitos",
		"no quiero|deseo ?recibir ?mas mensajes",
		"no me|nos vuelvan|vuelvas|vuelva a escribir|mandar|enviar",
		"basta de mensajes|mensajitos",
		"别|不要|不用|勿 ?再 ?给我 ?再 发|推送",
		"停止 发|发送|推送", "不想 ?再 收到",
	),
	compileScoped(scSelf,
		"remove me|us", "remove my|this number|phone|info|name", "take me|us off", "take my|this number|phone off",
		"unsubscribe", "unsubscribed", "opt out|me", "optout", "revoke|revoking|revocation",
		"dar|darme|dame|denme|den de baja", "cancelar ?mi suscripcion", "basta de",
		"退订", "取消订阅", "拒收", "不再接收",
	),
)

// revocationClauses revoke only when the clause says nothing else but
// politeness ("no calls please", "no más"): "no calls today, I'm at work"
// is not a revocation.
var revocationClauses = slices.Concat(
	compileScoped(scVoice, "no calls|robocalls|llamadas"),
	compileScoped(scSMS, "no texts|txts|sms|textos"),
	compileScoped(scEmail, "no emails|e_mails|correos"),
	compileScoped(scMessages, "no messages|msgs|mensajes"),
	compileScoped(scSelf, "no more", "no mas", "enough", "enough already"),
)

// thirdParties, right after a revocation, say it is about someone else
// ("stop contacting my family", "dejen de molestar a mi familia",
// "别联系我家人"): that is for a person to read, not an opt-out of the
// borrower's own address.
var thirdParties = compileAll(
	"?a my|his|her|their|our|mi|mis|su|sus family|wife|husband|mom|mother|mum|dad|father|parents|kids|children|son|daughter|sister|brother|friends|friend|work|job|employer|boss|office|references|reference|neighbors|neighbours|relatives|grandmother|grandma|cousin|girlfriend|boyfriend|partner|spouse|familia|esposa|esposo|mama|papa|hijos|hija|hijo|trabajo|jefe|referencias|vecinos|amigos|padres|hermana|hermano|pareja",
	"?我 ?的 家人|家里|父母|朋友|同事|单位|公司|老婆|老公|妈妈|爸爸|孩子|亲戚|紧急联系人",
)

// channelObjects continue a revocation that names more than one channel
// ("stop calling and texting me", "no me llames ni me escribas",
// "别打电话发短信"), or say what an unscoped one is about ("unsubscribe me
// from texts"). loose objects (gerunds, plural nouns, Chinese objects) may
// follow without a conjunction, even after a comma ("stop calling,
// texting"); a bare verb needs one, so "stop calling me text me instead"
// revokes calls only.
var channelObjects = []struct {
	scoped
	loose bool
}{
	{scoped{compile("emails|e_mails|emailing|e_mailing|mails|correos|correos_electrónicos"), scEmail}, true},
	{scoped{compile("email|e_mail|mail|correo"), scEmail}, false},
	{scoped{compile("escribir|escribirme|enviar|enviarme|mandar|mandarme ?mas correos|correo|emails|email|mails"), scEmail}, true},
	{scoped{compile("envies|envien|mandes|manden|escribas|escriban ?mas correos|correo|emails|email|mails"), scEmail}, false},
	{scoped{compile("?电子 邮件|电邮|邮箱"), scEmail}, true},
	{scoped{compile("发 ?电子 邮件"), scEmail}, true},
	{scoped{compile("contacting|bothering|harassing"), scAll}, true},
	{scoped{compile("contactar|contactarme|molestar|molestarme"), scAll}, true},
	{scoped{compile("contact|bother|harass|contacten|contactes|molesten|molestes"), scAll}, false},
	{scoped{compile("联系|骚扰|打扰"), scAll}, true},
	{scoped{compile("calls|calling|robocalls|phone_calls|llamadas"), scVoice}, true},
	{scoped{compile("llamar|llamarme|marcar|marcarme"), scVoice}, true},
	{scoped{compile("call|ring|phone|llamen|llames|llame|marquen|marques"), scVoice}, false},
	{scoped{compile("打 ?电话"), scVoice}, true},
	{scoped{compile("来电|电话"), scVoice}, true},
	{scoped{compile("texts|texting|txts|txting|sms|text_messages|textos"), scSMS}, true},
	{scoped{compile("textear|textearme"), scSMS}, true},
	{scoped{compile("text|txt"), scSMS}, false},
	{scoped{compile("发 ?短信"), scSMS}, true},
	{scoped{compile("短信"), scSMS}, true},
	{scoped{compile("messages|messaging|msgs|mensajes|mensajitos|msjs"), scMessages}, true},
	{scoped{compile("escribir|escribirme|enviar|enviarme|mandar|mandarme"), scMessages}, true},
	{scoped{compile("message|msg|escriban|escribas|envien|envies|manden|mandes"), scMessages}, false},
}

// revocationConjunctions join the channels of one revocation. After an
// alternative ("don't call or text me", "no me llames ni me escribas") the
// negation carries over to a bare verb; after "and" only a loose object
// does, since "don't call me and text me instead" asks for texts.
var revocationConjunctions = map[string]bool{
	"and": false, "plus": false, "y": false, "e": false, "和": false, "跟": false, "及": false, "与": false,
	"or": true, "nor": true, "o": true, "u": true, "ni": true, "或": true,
}

// revocationFillers may stand between a revocation and the next channel it
// names ("stop calling me and texting me", "stop calling my phone or
// texting", "dejen de llamarme y de escribirme").
var revocationFillers = map[string]bool{
	"me": true, "us": true, "my": true, "this": true, "phone": true, "cell": true, "number": true, "at": true,
	"home": true, "work": true, "anymore": true, "again": true, "please": true, "ever": true,
	"nos": true, "mi": true, "mas": true, "nunca": true, "le": true, "les": true, "te": true, "de": true,
	"我": true, "们": true, "了": true, "再": true, "给": true,
}

// revocationTargets may stand between an unscoped revocation and the
// channel it is about ("unsubscribe me from all texts", "revoke my consent to
// calls", "darme de baja de los mensajes").
var (
	revocationTargetWords = map[string]bool{
		"me": true, "us": true, "my": true, "consent": true, "the": true, "your": true, "these": true, "all": true,
		"any": true, "mi": true, "consentimiento": true, "los": true, "las": true, "sus": true, "todos": true, "todas": true,
	}
	revocationConnectors = map[string]bool{
		"from": true, "of": true, "to": true, "for": true, "de": true, "a": true, "para": true,
	}
)

// revocation finds the revocations of the reply and the channels they name.
func (p *parser) revocation() (scope, bool) {
	var sc scope
	found := false
	for i := 0; i < len(p.toks); {
		s, end, ok := p.revocationAt(i)
		if ok && p.aboutThirdParty(end) {
			p.thirdParty = true
			ok = false
		}
		if !ok {
			i++
			continue
		}
		found = true
		if s == scSelf {
			if named, e, ok := p.revocationTarget(end); ok {
				s, end = named, e
			}
		}
		sc |= s
		for {
			named, e, ok := p.nextChannel(end)
			if !ok {
				break
			}
			sc |= named
			end = e
		}
		i = end
	}
	if cs, ok := p.clauseRevocation(); ok {
		found = true
		sc |= cs
	}
	// A clause made only of revocation words and politeness: "STOP PLEASE".
	for i := 0; i < len(p.toks); {
		c := p.toks[i].clause
		stop, other := false, false
		for ; i < len(p.toks) && p.toks[i].clause == c; i++ {
			switch w := p.toks[i].text; {
			case stopWords[w]:
				stop = true
			case fillers[w]:
			default:
				other = true
			}
		}
		if stop && !other {
			found = true
			sc |= scSelf
		}
	}
	return sc, found
}

// aboutThirdParty reports whether the words at toks[i] name someone else.
func (p *parser) aboutThirdParty(i int) bool {
	for _, pt := range thirdParties {
		if _, ok := pt.matchAt(p.toks, i); ok && p.toks[i].clause == p.toks[i-1].clause {
			return true
		}
	}
	return false
}

// clauseRevocation finds the revocationClauses that are a clause on their
// own, fillers aside.
func (p *parser) clauseRevocation() (scope, bool) {
	var sc scope
	found := false
	for i := range p.toks {
		for _, r := range revocationClauses {
			e, ok := r.p.matchAt(p.toks, i)
			if !ok {
				continue
			}
			c := p.toks[i].clause
			clean := true
			for j := 0; j < len(p.toks) && clean; j++ {
				if p.toks[j].clause == c && (j < i || j >= e) && !fillers[p.toks[j].text] {
					clean = false
				}
			}
			if clean {
				sc |= r.sc
				found = true
			}
		}
	}
	return sc, found
}

// revocationAt reports the first revocation phrase matching at toks[i].
func (p *parser) revocationAt(i int) (scope, int, bool) {
	for _, r := range revocations {
		if e, ok := r.p.matchAt(p.toks, i); ok {
			return r.sc, e, true
		}
	}
	return 0, 0, false
}

// revocationTarget reads what an unscoped revocation is about: "from texts",
// "to calls", "de los correos".
func (p *parser) revocationTarget(i int) (scope, int, bool) {
	j := i
	for j < len(p.toks) && p.toks[j].clause == p.toks[i-1].clause && revocationTargetWords[p.toks[j].text] {
		j++
	}
	if j >= len(p.toks) || p.toks[j].clause != p.toks[i-1].clause || !revocationConnectors[p.toks[j].text] {
		return 0, 0, false
	}
	j++
	for j < len(p.toks) && revocationTargetWords[p.toks[j].text] {
		j++
	}
	return p.channelObjectAt(j, false)
}

// nextChannel reads one more channel named after a revocation ending at
// toks[i]: "and texting", "ni me escribas", "发短信", ", emailing".
func (p *parser) nextChannel(i int) (scope, int, bool) {
	if i == 0 || i >= len(p.toks) {
		return 0, 0, false
	}
	clause := p.toks[i-1].clause
	j := i
	for j < len(p.toks) && p.toks[j].clause == clause && revocationFillers[p.toks[j].text] {
		j++
	}
	if j >= len(p.toks) || p.toks[j].clause != clause || !revocationConjunctionAt(p.toks[j]) {
		// No conjunction: only a list of loose objects continues it
		// ("stop calling, texting and emailing me"), not a sentence that
		// goes on ("don't call me, texting is fine").
		if !p.listOnly(j) {
			return 0, 0, false
		}
		return p.channelObjectAt(j, true)
	}
	alternative := revocationConjunctions[p.toks[j].text]
	j++
	for j < len(p.toks) && revocationFillers[p.toks[j].text] {
		j++
	}
	return p.channelObjectAt(j, !alternative)
}

// revocationConjunctionAt reports whether t joins channels.
func revocationConjunctionAt(t token) bool {
	_, ok := revocationConjunctions[t.text]
	return ok
}

// listOnly reports whether the clause from toks[i] on holds only channels,
// conjunctions and fillers.
func (p *parser) listOnly(i int) bool {
	if i >= len(p.toks) {
		return false
	}
	c := p.toks[i].clause
	for i < len(p.toks) && p.toks[i].clause == c {
		t := p.toks[i]
		if revocationFillers[t.text] || revocationConjunctionAt(t) {
			i++
			continue
		}
		_, e, ok := p.channelObjectAt(i, false)
		if !ok {
			return false
		}
		i = e
	}
	return true
}

// channelObjectAt reads a channel named at toks[i]; looseOnly accepts only
// gerunds, plural nouns and Chinese objects.
func (p *parser) channelObjectAt(i int, looseOnly bool) (scope, int, bool) {
	if i >= len(p.toks) {
		return 0, 0, false
	}
	for _, o := range channelObjects {
		if looseOnly && !o.loose {
			continue
		}
		if e, ok := o.p.matchAt(p.toks, i); ok {
			return o.sc, e, true
		}
	}
	return 0, 0, false
}

// channels resolves a scope into the channels it revokes, in nudge.Channels
// order: unnamed messages are emails when the reply is an email, else
// texts; a revocation naming no channel revokes the reply's own.
func (p *parser) channels(sc scope) []nudge.ChannelKind {
	self := p.c.Channel
	if !self.Valid() {
		self = nudge.SMS
	}
	if sc&scMessages != 0 {
		if self == nudge.Email {
			sc |= scEmail
		} else {
			sc |= scSMS
		}
	}
	if sc&scSelf != 0 {
		sc |= scopeOf(self)
	}
	var out []nudge.ChannelKind
	for _, ch := range nudge.Channels {
		if sc&scopeOf(ch) != 0 {
			out = append(out, ch)
		}
	}
	return out
}

// scopeOf returns the scope bit of channel ch.
func scopeOf(ch nudge.ChannelKind) scope {
	switch ch {
	case nudge.SMS:
		return scSMS
	case nudge.Voice:
		return scVoice
	case nudge.Email:
		return scEmail
	}
	return 0
}

// legalPhrases threaten legal action.
var legalPhrases = compileAll(
	"sue|suing|sued|lawsuit|lawsuits|litigation|litigate",
	"legal action|actions|proceedings|steps", "take|taking|see you|u|y'all|yall to|in court",
	"demandar|demandare|demandarlos|demandarles|demandarte|demandaria|demandarlas|demanda|demando|demandaremos",
	"accion|acciones legal|legales", "tribunal|tribunales", "juzgado",
	"起诉", "法院", "打官司", "诉讼", "法律 途径|手段|程序|责任", "我 要 告", "要 去 告", "告 你|你们",
)

// attorneyPhrases name a lawyer.
var attorneyPhrases = compileAll(
	"lawyer|lawyers|attorney|attorneys|abogado|abogada|abogados|律师",
)

// complaintPhrases complain of harassment or name a regulator.
var complaintPhrases = compileAll(
	"harass|harassing|harassment|harassed|harrass|harrassing",
	"cfpb|ftc|bbb|better_business_bureau|attorney_general",
	"consumer financial protection", "report|reporting you|u|y'all|yall|this|your",
	"file|filing|filed|make ?a complaint", "complaint|complaints|complain|complaining",
	"acoso|acosar|acosando|acosan|acosen|acosador|acosadores|hostigar|hostigando|hostigamiento|hostigan",
	"queja|quejas|quejarme|denunciar|denunciarlos|denuncia|reportarlos|reportarles", "voy a reportar|denunciar",
	"profeco|condusef",
	"投诉", "骚扰", "举报", "报警", "银保监", "银监会", "金融监管", "12378", "消协", "消费者协会",
)

// notAfterGao are the characters that, just before 告, make a word other
// than "sue" (广告 advertisement, 报告 report, 转告 pass on, 预告 notice).
var notAfterGao = map[string]bool{"广": true, "报": true, "转": true, "预": true, "忠": true, "警": true, "通": true, "公": true, "布": true, "宣": true, "劝": true}

// flags reads what a person must see first: legal threats, lawyers and
// complaints. Cease is set by the caller from the revocation found.
func (p *parser) flags() Flags {
	var f Flags
	for i := 0; i < len(p.toks); {
		s, e, ok := find(p.toks, legalPhrases, i)
		if !ok {
			break
		}
		if k := indexOfGao(p.toks[s:e]); k >= 0 && s+k > 0 && notAfterGao[p.toks[s+k-1].text] {
			i = s + 1
			continue
		}
		f.LegalThreat = true
		break
	}
	for i := 0; i < len(p.toks); {
		_, e, ok := find(p.toks, attorneyPhrases, i)
		if !ok {
			break
		}
		if e < len(p.toks) && p.toks[e].text == "general" {
			i = e
			continue
		}
		f.Attorney, f.LegalThreat = true, true
		break
	}
	f.Complaint = contains(p.toks, complaintPhrases)
	return f
}

// indexOfGao returns the index of 告 in toks, or -1.
func indexOfGao(toks []token) int {
	for i, t := range toks {
		if t.text == "告" {
			return i
		}
	}
	return -1
}
