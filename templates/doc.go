// Package templates renders the messages Nudge sends: SMS bodies, emails
// (subject, text and HTML parts) and voice-bot scripts, in the borrower's
// language, with money and dates formatted for that language.
//
// # Packs and overrides
//
// A Pack is a set of templates. Default returns the embedded pack (English,
// Spanish and Simplified Chinese); Load overlays a lender's directory on it.
// Both use one layout:
//
//	<locale>/<file>.tmpl                       shared {{define}} blocks
//	<locale>/<channel>/<name>.<part>.tmpl      one part of one template
//
//	pack.yaml                                  settings (SMS budgets, menus, transliteration)
//
// for example en/sms/late_sms.text.tmpl, es/email/due_email.subject.tmpl or
// zh-CN/voice/late_voice.greeting.tmpl. Channels are sms (part text), email
// (subject, text, html) and voice (the parts in VoiceParts). To change one
// message a lender copies that one file into its directory and edits it; a
// new locale directory adds a language. Every locale defines the blocks
// "optout" (the SMS opt-out instruction), "disclosure" (the Reg F debt-collector
// disclosure, empty unless .Disclosure is set) and "days" (a day count); it
// may define "sms_disclosure", the same disclosure in the fewer words an SMS
// can afford, which SMS may carry instead, and "menu" (BlockMenu), the
// numbered menu of Data.Menu.
//
// # Writing templates
//
// SMS, email text and voice parts use text/template; the HTML part uses
// html/template. Both run with missingkey=error, and a template sees Data.
// Functions, bound to the chosen locale at render time:
//
//	{{money .Amount}}      amount in Data.Currency: $412.50, 412,50 US$, US$412.50
//	{{date .DueDate}}      long date: June 1, 2026; 1 de junio de 2026; 2026年6月1日
//	{{phone .HelpPhone}}   phone number for reading: (800) 555-0100
//	{{digits .AgentPhone}} phone number for speech: 8 0 0, 5 5 5, 0 1 0 0
//	{{keypad .PromiseDate}} month and day as keypad digits: 0 6, 1 2
//	{{shortdate .Date}}    short date for a menu: Fri 06/12; vie 12/06; 6月12日
//
// Money comes from CLDR through github.com/bojanz/currency. golang.org/x/text
// has no date formatting, so dates use github.com/goodsign/monday (CLDR long
// date layouts and month names for some 45 locales, no dependencies), picked
// by golang.org/x/text/language matching; languages it lacks get 2026-06-01.
// Rendered text (not HTML) has CLDR's no-break spaces replaced by spaces, so
// an English SMS stays in GSM-7.
//
// # Locales
//
// Render picks, among the locales a template exists in, the best match for
// the borrower's language, then the lender's default, then en (Locales builds
// that list). Regional and script variants match: es-MX reads es, and zh,
// zh-Hans, zh-CN and zh-TW read zh-CN. Money and dates follow the borrower's
// region when the borrower's tag or Data.Country gives one, so a Spanish
// speaker in the US sees "$412.50".
//
// # Rules Validate enforces
//
// Every SMS except OptOutConfirmSMS contains the locale's opt-out text
// ("Reply STOP to opt out", "Responde ALTO para cancelar", "回复TD退订");
// every email's text and HTML parts contain .UnsubscribeURL; with
// .Disclosure set, SMS, email and the voice message and voicemail carry the
// disclosure (the first-communication wording with .FirstContact); the
// limited-content voicemail (Reg F §1006.2(j)) and the wrong-party message say
// nothing about the debt; every SMS fits its segment budget with LongData.
// Load refuses a directory that breaks a rule, naming each file (and line,
// for parse errors). Rendering an SMS over MaxSMSChars is an error;
// CountSegments reports GSM-7/UCS-2 segments.
//
// # SMS budgets and transliteration
//
// A lender pays per segment, and one character outside GSM-7 (the í of
// García) sends the whole text as UCS-2, 67 characters a part instead of 153.
// Every SMS template has a budget, in segments: DefaultMaxSegments (2), or
// what pack.yaml declares:
//
//	sms:
//	  max_segments: 2            # every SMS template without its own
//	  transliterate: [en, es]    # Latin-script locales only
//	  templates:
//	    help_sms: {max_segments: 3}
//
// A lender's pack.yaml overrides the default one key by key. Validate renders
// every SMS template in every locale with LongData (a 30-character accented
// name, 99,999.99, the locale's longest date, a 40-character link), without
// and with each disclosure variant, and fails when one needs more segments
// than its budget, naming the file, the template and the locale. In the
// locales sms.transliterate lists, a body that as written needs more segments
// than its budget is transliterated to GSM-7 (Transliterate: García →
// Garcia, “ ” → "), unless a character with no GSM-7 form (Chinese, emoji)
// keeps it UCS-2 anyway; a body within its budget keeps its accents.
// Rendered carries the segments, the encoding, the budget and whether the
// body was transliterated; real data can still go over the budget
// (Rendered.OverBudget), which the caller may refuse or report.
//
// # Numbered menus
//
// An SMS template may declare a numbered menu in pack.yaml
// (sms.templates.late_sms.menu: [promise, paid]): Render fills Data.Menu
// with keys 1, 2, … for the options, the text writes them out with the
// locale's "menu" block ("Reply 1 to pay $412.50 by Fri 06/12, 2 if you
// already paid."), and Rendered.Menu holds what the text offered, for the
// caller to store with the message. The menu is offered only when the text
// shows it and still fits its budget; otherwise the text goes without it
// and Rendered.Menu is nil, so no menu is ever stored that the borrower did
// not see.
package templates
