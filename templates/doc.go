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
// for example en/sms/late_sms.text.tmpl, es/email/due_email.subject.tmpl or
// zh-CN/voice/late_voice.greeting.tmpl. Channels are sms (part text), email
// (subject, text, html) and voice (the parts in VoiceParts). To change one
// message a lender copies that one file into its directory and edits it; a
// new locale directory adds a language. Every locale defines the blocks
// "optout" (the SMS opt-out instruction), "disclosure" (the Reg F debt-collector
// disclosure, empty unless .Disclosure is set) and "days" (a day count).
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
// nothing about the debt. Load refuses a directory that breaks a rule, naming
// each file (and line, for parse errors). Rendering an SMS over MaxSMSChars is
// an error; CountSegments reports GSM-7/UCS-2 segments for the caller's limit.
package templates
