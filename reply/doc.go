// Package reply turns a borrower's free-text answer (an inbound SMS, a speech
// result on a call, a comment on a web form) into an intent: opt-out, opt-in,
// help, a promise to pay (amount and date), already paid, wrong number, a
// request for a person, or unknown (a person must read it).
//
// Parse is pure: no I/O, no clock. The instant the reply arrived, the
// borrower's zone, locale, amount due, promise horizon and any numbered menu
// come in a Context. English, Spanish and Simplified Chinese are understood;
// the grammars run together, so a Spanish speaker answering in English is
// still understood, and Result.Language says which language the reply used.
//
// # Order of the rules
//
// The first rule that applies decides:
//
//  1. Empty replies and replies longer than MaxReplyRunes are unknown.
//  2. Opt-out keywords, when they are the whole message (case-insensitive,
//     surrounding spaces, punctuation and emoji trimmed, "opt-out" = "OPT
//     OUT"): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT,
//     OPT OUT, 退订, TD, T, 取消, ALTO, BAJA. Result.Keyword holds the keyword
//     and Result.Channels the channel the reply came on (Context.Channel).
//     An opt-out keyword wins over a menu key.
//  3. A menu key: when Context.Menu is set (the menu the latest SMS offered,
//     stored with its attempt) and the whole reply is one of its keys ("1",
//     "1.", "#1", "1️⃣", "one", "uno", "一", "option 1"), the reply means that
//     option; a number that is not a key is unknown.
//     A promise option takes the option's amount or the amount due and obeys
//     the past and horizon rules below; other options carry no date or amount.
//     A key is never consent: an option meaning opt-in reads as unknown.
//  4. Opt-in keywords START, YES, UNSTOP and help keywords HELP, INFO, AYUDA,
//     帮助, as whole messages. Spanish ALTA is not an opt-in: Twilio lifts its
//     block only on START, YES and UNSTOP, and an opt-in Nudge records must
//     be one the provider honours too, so its letters must be ASCII ("ſtart"
//     is not START). No sentence ever opts in, and neither does a short reply
//     whose meaning is unclear ("ok", "k", "?", "Y", "1" without a menu).
//  5. Revocation in a sentence (47 CFR 64.1200(a)(10), "any reasonable
//     means"), scoped to the channels it names in Result.Channels, whatever
//     channel it came on. Calls: "stop calling me", "don't call me", "no more
//     calls", "opt out of calls"; "no me llames/llamen/marquen", "dejen de
//     llamarme", "no más llamadas"; 别(再)打(电话), 不要再给我打电话, 停止来电. Texts: "stop
//     texting me", "don't text me", "no more texts"; "no me textees", "no más
//     textos"; 别发短信, 不要再发短信. Emails: "stop emailing me", "stop sending me
//     emails", "unsubscribe me from emails"; "no me manden correos"; 别发邮件.
//     Messages of no named kind ("stop sending me messages", "no me mandes
//     mensajes", "no más mensajes", 别再发了): emails when the reply is an email,
//     else texts. Every channel, for a request to stop all communication
//     (Flags.Cease): "stop contacting me", "leave me alone", "cease and
//     desist", "stop harassing me"; "déjenme en paz", "no me
//     contacten/molesten", "dejen de molestarme"; 别再联系我, 请勿打扰, 别烦我, 停止催收; or
//     every channel named at once. The channel the reply came on, for a clause
//     made only of revocation words and politeness ("STOP PLEASE", "stop!!",
//     "ya basta por favor", "no more", "no más"), "remove me", "take me off",
//     "unsubscribe", "opt me out", "revoke", "darme de baja"; 退订 anywhere,
//     取消订阅, 拒收. Several channels may be named together ("stop calling and
//     texting me", "don't call or text me", "no me llames ni me escribas",
//     "stop calling, texting and emailing me", 别打电话发短信), but "don't call me,
//     texting is fine" and "don't call me and text me instead" revoke calls
//     only. "no calls", "no texts" and "no emails" revoke only as a clause of
//     their own ("no calls today, I'm at work" does not). A revocation about
//     someone else ("stop contacting my family", "dejen de molestar a mi
//     familia", 别联系我家人) is unknown: a person reads it. A revocation word in a
//     longer sentence that does not say what to stop ("I can't stop by the
//     office", "at the end of the month") is not a revocation. Result.Keyword
//     stays empty: carriers and Twilio act only on keywords, so the caller
//     records these opt-outs and confirms them itself.
//  6. Wrong number: "wrong number/person/#", "no one here by that name",
//     "don't know this person", "not my number"; "número equivocado", "se
//     equivocó de número", "persona equivocada", "no es mi número"; 打错,
//     发错, 找错人, 不认识, 不是本人, 号码错. "not me", "no soy yo" and 不是我
//     count only when the clause says nothing else.
//  7. A person: "call me", "talk/speak to someone/a person/an agent", "give
//     me a call", "need to talk"; "hablar con", "quiero hablar", "llámame",
//     "me pueden llamar"; 人工, 转人工, 客服, 真人, 打给我, 给我打电话, 回电,
//     联系我; "agent", "representative", "operator", "agente", "asesor" alone.
//     "don't call me" is a revocation (rule 5 comes first).
//  8. Already paid: "paid", "already paid", "I made/sent a payment", "payment
//     was made"; "ya pagué", "ya pague", "pagué", "ya hice el pago", "ya
//     deposité"; 已还, 已经还了, 还了, 已付, 付了, 还过, 结清, 已经还款. Not when
//     negated ("I haven't paid", 还没还) nor when "paid" means payday ("I get
//     paid Friday"). A reply that both says it paid and promises a further
//     payment ("I paid 100 yesterday and will pay 200 Friday") is unknown.
//  9. A promise to pay (below).
//  10. Anything else is unknown.
//
// # Flags
//
// Whatever the intent, Result.Flags report what a person must review first:
// a request to stop all communication (Cease, above); a legal threat
// (LegalThreat: "sue", "lawsuit", "legal action", "take you to court";
// "demandar", "acciones legales"; 起诉, 法院, 打官司, 我要告你, but not 广告你);
// a mention of a lawyer (Attorney, with LegalThreat: "lawyer", "attorney",
// "abogado", 律师); a complaint (Complaint: "harass", "harassment", "CFPB",
// "BBB", "report you", "complaint"; "acoso", "queja", "denunciar",
// "Profeco", "Condusef"; 投诉, 骚扰, 举报, 报警, 12378). Flags.Review names
// the intent a person reviews the reply under (nudge.ReviewIntents). The
// words are matched as they are written: "Sue" the name is flagged too, and
// a person dismisses it.
//
// # Promises
//
// A promise needs a pay verb and exactly one date. Pay verbs: pay, paying,
// payment, repay, deposit, promise; pagar, pagaré, pago, pagaría, abonar,
// depositar, liquidar; 还款, 还钱, 还清, 付款, 支付, 缴费, 转账, 打款, and a bare
// 还, 付 or 缴 when followed by an amount, 款/钱/清/上/完, or the end of the
// clause ("5号还", "还500"), so 还 meaning "still" (还在上班) is not one.
//
// The verb does not count when negated earlier in its clause ("can't pay",
// "no puedo pagar", 不能还, and 还不了 after it), when it follows a past or
// received payment within three words ("did you get my payment", "I made a
// payment"), or when the reply quotes a due date ("payment due Friday").
// Clauses are split at . , ; ! ? and at "but", "pero", 但是, 不过: "I can't pay
// today but I will pay Monday" promises Monday. "No problem", "no hay
// problema", 不好意思, 没问题 are not negations.
//
// Dates (read in Context.Location; "today" is the borrower's today):
//
//   - Relative: today, tonight, tomorrow (tmrw, tmr, 2moro, …), day after
//     tomorrow, end of (the) month; hoy, mañana (but "por la mañana" is the
//     morning), pasado mañana, fin de mes; 今天, 今晚, 明天, 后天, 大后天, 月底.
//     Yesterday, ayer, 昨天, 前天 are understood and are past.
//   - Counts: in 3 days, within a week, in three days, 3 days from now; en 3
//     días, dentro de 2 semanas; 3天后, 三天内, 两个星期后.
//   - Weekdays: Friday, FRI, this Friday = the next Friday, today included.
//     "next Friday" = Friday of next week (weeks run Monday to Sunday), like
//     下周五. "el viernes", "este viernes" = the next Friday, today included;
//     "el próximo viernes", "el viernes que viene" = the next Friday after
//     today; "el viernes de la próxima semana" = next week's. 周五, 星期五,
//     礼拜五 = the next Friday, today included; 下周五 next week's; 下下周五 the
//     week after; 这周五/本周五 this week's (possibly past); 上周五, "last
//     Friday", "el viernes pasado" are past. Spanish "mar" is Tuesday only in
//     a Spanish reply with no day number after it (else March). A weekday
//     beside a full date that falls on it ("Friday 12/4") only confirms it; a
//     weekday that contradicts it makes two dates.
//   - Month and day: Dec 5, December 5th, 5 Dec, 5th of December, Dec 5 2026;
//     5 de diciembre (de 2026), diciembre 5; 12月5日, 12月5号, 十二月五日,
//     2026年12月5日; 下个月5号; 这个月20号 (this month, possibly past).
//   - Numeric: 12/05, 12/05/2026, 12/05/26, 2026-12-05, 12-05. The order of
//     12/05 is the borrower's: day first for Spanish wherever they live (es,
//     es-US, es-MX: "pago el 10/12" is 10 December); else from the region
//     of Context.Language (en-GB and zh-HK day first, en-US month first),
//     else from Context.Country: month first in the US and its territories,
//     PH, CA (day first in French), CN, TW, JP, KR and MN (in China 12/5 is
//     December 5, as 12月5日 is); day first elsewhere (MX, ES, GB …);
//     without either, from the language (en, zh, ja, ko month first; others
//     day first). When the preferred order is impossible (13/12) the other
//     one is used. When both orders are dates and the borrower's reading is
//     past, the promise is asked back: Result.Ambiguous is set (with Past
//     and an unknown intent) and Result.Alternative holds the other reading
//     when that one is not past.
//   - Day of the month alone: the 5th, on the 15th, el 15, el día 10, 5号,
//     五号, 5日: this month when the day has not passed, else next month; a
//     day the month lacks is its last day ("the 31st" in November).
//   - Times are not amounts nor dates: 5pm, 5:30, at 5, a las 5, 3点, 下午3点.
//
// A year-less date already past this year means next year when that is
// within the horizon (on December 28, "1/5" is January 5), otherwise it is
// past. A past date is never a promise: Result.Past is set and the intent is
// unknown, with no date. A date more than Context.MaxPromiseDays (default
// DefaultMaxPromiseDays) after today is still a promise with TooFar set: the
// caller asks for an earlier date. Impossible dates (2/30) and two different
// dates make the reply unknown. Dates said with the pay verb win over dates
// in other clauses.
//
// Amounts: $150, 150, 150 dollars/pesos/bucks, 1,250.50, 1.500 (a single
// separator followed by three digits groups thousands), 200,50 (a decimal
// comma), 1.5k, ￥800, 500元, 500块, 五百, 两千, 一千五 (1500). Numbers that are
// dates, times, counts ("3 days", "2 payments"), ordinals, references after
// "account", "#", "loan", 尾号, 账号, or digit strings of 7 or more without a
// currency sign are not amounts. Amounts are normalised to the currency's
// fraction digits (Context.Currency, 2 when unknown): "200" becomes
// "200.00", "200,50" becomes "200.50", yen stays "20000". A promise without
// an amount promises Context.AmountDue (empty when that is not a decimal).
//
// An unclear amount makes the reply unknown rather than recording a sum the
// borrower did not say: two different amounts, a percentage, "half", "the
// rest", "part", "la mitad", 一部分, more fraction digits than the currency
// has, zero, or more than MaxAmountFactor times the amount due.
//
// # Language
//
// Result.Language is zh-CN when the reply has a Han character, else es or en
// by counting accents, ¿ ¡ and common words of each language (the borrower's
// Context.Language breaks a tie), and empty when nothing tells ("1", "TD",
// "12/05").
package reply
