package reply

import "github.com/nudgehq/nudge"

// keywords are the whole-message keywords (CTIA, Twilio defaults, the Chinese
// 退订 family and Spanish ALTO/BAJA/AYUDA), upper-cased, words separated by
// one space.
//
// Spanish ALTA is deliberately not an opt-in keyword: Twilio's Advanced
// Opt-Out only lifts its block on START, YES and UNSTOP, so recording an
// opt-in on ALTA would leave Nudge believing it may text a number that the
// provider still refuses (error 21610). Opt-outs may be broader than the
// provider's list; opt-ins may not.
var keywords = map[string]nudge.Intent{
	"STOP": nudge.IntentOptOut, "STOPALL": nudge.IntentOptOut, "UNSUBSCRIBE": nudge.IntentOptOut,
	"CANCEL": nudge.IntentOptOut, "END": nudge.IntentOptOut, "QUIT": nudge.IntentOptOut,
	"REVOKE": nudge.IntentOptOut, "OPTOUT": nudge.IntentOptOut, "OPT OUT": nudge.IntentOptOut,
	"退订": nudge.IntentOptOut, "TD": nudge.IntentOptOut, "T": nudge.IntentOptOut, "取消": nudge.IntentOptOut,
	"ALTO": nudge.IntentOptOut, "BAJA": nudge.IntentOptOut,

	"START": nudge.IntentOptIn, "YES": nudge.IntentOptIn, "UNSTOP": nudge.IntentOptIn,

	"HELP": nudge.IntentHelp, "INFO": nudge.IntentHelp, "AYUDA": nudge.IntentHelp, "帮助": nudge.IntentHelp,
}

// stopWords are the revocation words that opt out when a clause holds nothing
// else but politeness ("STOP PLEASE", "por favor basta", "stop stop stop").
var stopWords = map[string]bool{
	"stop": true, "stopall": true, "unsubscribe": true, "cancel": true, "end": true, "quit": true,
	"revoke": true, "optout": true, "alto": true, "baja": true, "basta": true, "cancelar": true,
}

// fillers are words that may surround a revocation word or a short phrase
// such as "not me" without changing its meaning.
var fillers = map[string]bool{
	"please": true, "pls": true, "plz": true, "plse": true, "now": true, "thanks": true, "thank": true,
	"you": true, "thx": true, "ty": true, "ok": true, "okay": true, "all": true, "it": true,
	"asap": true, "immediately": true, "just": true, "sir": true, "maam": true, "hi": true, "hello": true,
	"opt": true, "out": true, "me": true, "lol": true, "sorry": true,
	"por": true, "favor": true, "porfa": true, "porfavor": true, "ya": true, "gracias": true, "hola": true,
	"perdon": true, "disculpe": true,
	"啊": true, "呀": true, "吧": true, "了": true, "的": true, "哦": true, "呢": true, "嘛": true,
	"请": true, "谢": true,
}

// wrongNumberPhrases say the reply comes from someone who is not the borrower.
var wrongNumberPhrases = compileAll(
	"wrong number|num|#|no|person|phone|guy|girl|lady|man|contact|texts|txt",
	"no_one|nobody|noone ?here ?by ?that name",
	"no such person", "not my number|phone",
	"don't|dont|do_not know this|that|who|any person|guy|name|man|woman|lady|one|is",
	"numero equivocado|equivocada|incorrecto|errado",
	"equivoco|equivocaron|equivocan|equivocado|equivocada|equivocaste ?de numero|persona",
	"persona equivocada|incorrecta", "no es mi numero", "no conozco a ?esa|esta ?persona",
	"no soy esa|esta persona", "no vive aqui",
	"打错", "发错", "找错人", "搞错人", "弄错人", "不认识", "不是本人", "号码错", "没有这个人", "查无此人",
)

// wrongNumberClauses are wrong-number phrases that count only when a clause
// says nothing else ("not me", but not "not me who signed").
var wrongNumberClauses = compileAll("not me", "no soy yo", "不是我", "不是 本人|我的")

// talkPhrases ask for a person.
var talkPhrases = compileAll(
	"talk|speak|chat to|with someone|somebody|anyone|anybody|a_person|a_human|a_real_person|human|a_agent|an_agent|agent|a_rep|rep|a_representative|representative|a_manager|manager|a_supervisor|supervisor|customer_service|live_person|real_person",
	"call|ring me|us ?back", "give me a call", "call_back", "callback",
	"someone|somebody|anyone|agent|representative ?please|pls|plz|can|could|to call|contact",
	"need|want|like ?to talk|speak",
	"hablar con", "quiero|necesito|deseo|puedo hablar", "llamame|llameme|llamenme|marcame|marquenme|hableme|hablame",
	"me pueden|puede|podrian|podria|puedes llamar|marcar|hablar",
	"人工", "客服", "真人", "打给我", "给我 ?打 ?个 电话|回电", "回电", "回个电话", "联系我", "跟 ?你们 ?的 ?人 说",
)

// talkClauses are single words that ask for a person when they are a clause on
// their own.
var talkClauses = compileAll("agent", "representative", "operator", "human", "person", "agente", "asesor", "representante", "operador", "persona")

// paidPhrases say a payment was already made. Each is checked for negation
// and, for "paid", for a future or payday reading ("I get paid Friday").
var paidPhrases = compileAll(
	"paid|payed", "made|sent|submitted|did ?a|the|my|that|this payment|pmt|pymt",
	"payment|pmt|pymt was|has|is ?been made|sent|done|submitted|posted|processed|complete|completed",
	"already paid|payed|sent|made|did",
	"ya pague|pagamos|pagado|deposite|abone|realice|hice|cubri|liquide", "ya esta|quedo|fue pagado|pagada|liquidado|cubierto",
	"ya se pago", "ya lo|la pague", "hice|realice|efectue el|mi pago|deposito", "pague ayer|hoy|ya|el",
	"已 还|付|缴|支付|转|结清|还清|还款", "已经 还|付|缴|支付|转|结清", "还 了|过", "付 了|过", "缴 了|过", "结清 了", "转 了 账", "打 了 款",
)

// paidBlockers, found just before "paid", mean the word is not about a
// payment already made ("I get paid Friday", "it will be paid").
var paidBlockers = map[string]bool{
	"get": true, "gets": true, "getting": true, "got": true, "will": true, "i'll": true, "ill": true, "we'll": true,
	"gonna": true, "be": true, "to": true, "when": true, "if": true, "until": true, "till": true, "til": true,
}

// negations make a pay verb or a "paid" phrase mean the opposite.
var negations = map[string]bool{
	"not": true, "no": true, "never": true, "can't": true, "cant": true, "cannot": true, "won't": true, "wont": true,
	"don't": true, "dont": true, "didn't": true, "didnt": true, "unable": true, "haven't": true, "havent": true,
	"hasn't": true, "hasnt": true, "isn't": true, "isnt": true, "couldn't": true, "couldnt": true, "wouldn't": true,
	"wouldnt": true, "ain't": true, "aint": true, "nope": true, "nor": true, "neither": true, "impossible": true,
	"nunca": true, "jamas": true, "tampoco": true, "ni": true, "imposible": true,
	"不": true, "没": true, "别": true, "无": true, "未": true, "难": true,
}

// negationExceptions are phrases that contain a negation word but do not
// negate ("no problem", "不好意思").
var negationExceptions = compileAll(
	"no problem|problemo|worries|prob|probs", "not_a_problem",
	"no hay problema|pedo", "no se preocupe|preocupen|preocupes", "sin problema",
	"不好意思", "没问题", "没事", "不客气",
)

// payVerbs are the words that make a sentence about paying. Chinese 还 and 付
// are pay verbs only when followed by what a payment takes (see zhPayFollow).
var payVerbs = compileAll(
	"pay|paying|payment|payments|pmt|pymt|pmnt|repay|deposit|promise",
	"pagar|pagare|pago|pagaria|pagaremos|pagamos|pagarle|pagarles|pagarlo|pagarla|pagaran|abonar|abonare|abono|depositar|depositare|deposito|liquidar|liquidare|cubrir",
	"还款", "还钱", "还清", "还上", "还完", "付款", "付钱", "支付", "缴费", "缴款", "交钱", "交款", "转账", "打款", "承诺",
)

// payBlockers, within three words before a pay verb, mean the sentence is
// about a past or received payment ("did you get my payment Friday").
var payBlockers = map[string]bool{
	"did": true, "made": true, "sent": true, "got": true, "received": true, "receive": true, "get": true,
	"was": true, "were": true, "been": true, "recibieron": true, "recibio": true, "recibido": true,
	"hice": true, "realice": true, "llego": true,
}

// zhPayFollow are the characters that may follow a bare 还/付/交/缴 used as a
// pay verb ("5号还", "还500", "还一部分"), which tells it apart from 还 meaning
// "still" (还在, 还是, 还有).
var zhPayFollow = map[string]bool{
	"款": true, "钱": true, "清": true, "上": true, "完": true, "给": true, "掉": true, "你": true, "您": true,
	"贷": true, "吧": true, "啊": true, "哈": true, "哦": true, "呢": true, "的": true, "全": true, "部": true,
	"一": true, "两": true, "二": true, "三": true, "四": true, "五": true, "六": true, "七": true, "八": true, "九": true,
	"十": true, "百": true, "千": true, "万": true, "¥": true, "$": true,
}

// accountWords precede numbers that are references, not amounts.
var accountWords = map[string]bool{
	"account": true, "acct": true, "acc": true, "loan": true, "ref": true, "reference": true, "#": true,
	"number": true, "confirmation": true, "conf": true, "id": true, "vin": true, "phone": true,
	"cuenta": true, "prestamo": true, "folio": true, "referencia": true, "numero": true, "contrato": true,
	"号": true, "码": true, "账": true, "单": true,
}

// currencyWords mark a number as an amount ("200 dollars", "500块").
var currencyWords = map[string]bool{
	"$": true, "¥": true, "€": true, "usd": true, "us": true, "dollar": true, "dollars": true, "dlls": true, "dls": true,
	"dlrs": true, "bucks": true, "buck": true, "pesos": true, "peso": true, "mxn": true, "eur": true, "euros": true, "euro": true,
	"dolares": true, "dolar": true, "rmb": true, "cny": true, "yuan": true,
	"元": true, "块": true, "圆": true,
}

// timeSuffixes after a number make it a time of day ("5pm", "5 o'clock").
var timeSuffixes = map[string]bool{
	"am": true, "pm": true, "hrs": true, "hr": true, "h": true, "o'clock": true, "oclock": true,
	"horas": true, "hs": true,
}

// countUnits after a number make it a count, not an amount.
var countUnits = map[string]bool{
	"day": true, "days": true, "week": true, "weeks": true, "wk": true, "wks": true, "month": true, "months": true,
	"year": true, "years": true, "yrs": true, "hour": true, "hours": true, "minutes": true, "mins": true, "min": true,
	"times": true, "payments": true, "installments": true, "dia": true, "dias": true, "semana": true, "semanas": true,
	"mes": true, "meses": true, "ano": true, "anos": true, "pagos": true, "veces": true, "cuotas": true,
	"天": true, "日": true, "周": true, "个": true, "次": true, "期": true, "年": true, "小": true, "分": true, "点": true,
	"号": true, "月": true, "星": true, "礼": true, "岁": true,
}

// vagueAmounts name a part of the debt without a number ("half", "the rest",
// "一部分"): the amount is unclear and the reply needs a person.
var vagueAmounts = compileAll(
	"half|part|partial|portion|some|rest|remainder|remaining|something|little",
	"mitad|parte|resto|algo|poco|abono|abonito",
	"一部分", "部分", "一半", "剩下", "剩余", "一点", "一些",
)
