package reply

import (
	"regexp"
	"strings"
)

// EmailText returns what a borrower wrote in an email reply, for Parse: the
// body above the message they answered and above their signature, or, when
// nothing is left, the subject without its "Re:" prefixes (an answer
// written in the subject line). It only cuts, never adds: the result is a
// piece of body or of subject, trimmed.
//
// The body is cut at the first line that starts the quoted message or the
// signature:
//
//   - a quoted line ("> …");
//   - an attribution ("On Mon, Dec 1, 2025, Acme <replies@…> wrote:", also
//     over two lines as Gmail wraps it; "El … escribió:", "Le … a écrit :",
//     "在 2025年12月1日 … 写道："), and a date-first one ending in "wrote:";
//   - a separator ("-----Original Message-----", "---------- Forwarded
//     message ---------", "-----Mensaje original-----", "原始邮件", a line of
//     underscores as Outlook writes) or a header block that Outlook quotes
//     with ("From: …" followed by "Sent: …", "Date: …", "To: …" or
//     "Subject: …"; "De:", "发件人:" likewise);
//   - a signature delimiter ("-- ", RFC 3676) or a phone's signature ("Sent
//     from my iPhone", "Enviado desde mi …", "发自我的iPhone", "Get Outlook
//     for …").
func EmailText(subject, body string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	lines := strings.Split(body, "\n")
	for i, line := range lines {
		if startsQuote(lines, i) || startsSignature(line) {
			lines = lines[:i]
			break
		}
	}
	if text := strings.TrimSpace(strings.Join(lines, "\n")); text != "" {
		return text
	}
	return strings.TrimSpace(subjectPrefix.ReplaceAllString(subject, ""))
}

var (
	// attribution is a whole line that introduces a quoted message.
	attribution = regexp.MustCompile(`(?i)^\s*(` +
		`(on|am|le|el|em|op)\s.*\b(wrote|schrieb|a écrit|escribió|escreveu|schreef)\s*:?` +
		`|.*\b(wrote|escribió|a écrit)\s*:` +
		`|(在|于).*(写道|寫道)\s*[:：]?` +
		`)\s*$`)
	// attributionStart and attributionEnd are the two halves of an
	// attribution wrapped over two lines.
	attributionStart = regexp.MustCompile(`(?i)^\s*(on|el|le|am)\s+\S`)
	attributionEnd   = regexp.MustCompile(`(?i)\b(wrote|escribió|a écrit|schrieb)\s*:\s*$`)
	// separator is a line that begins a quoted or forwarded message.
	separator = regexp.MustCompile(`(?i)^\s*(` +
		`-{2,}\s*(original message|mensaje original|forwarded message|mensaje reenviado|message d'origine)\s*-*` +
		`|-{2,}\s*原始邮件\s*-*|_{8,}` +
		`)\s*$`)
	// headerFrom and headerNext are the first lines of the header block a
	// mail client quotes a message with.
	headerFrom = regexp.MustCompile(`(?i)^\s*\*?(from|de|von|发件人|寄件者)\*?\s*[:：]`)
	headerNext = regexp.MustCompile(`(?i)^\s*\*?(sent|date|to|subject|enviado|fecha|para|asunto|发送时间|日期|收件人|主题)\*?\s*[:：]`)
	// phoneSignature is a mail app's signature line.
	phoneSignature = regexp.MustCompile(`(?i)^\s*(sent from my\s|sent from (outlook|mail|yahoo)|get outlook for\s|enviado desde mi\s|enviado desde (outlook|yahoo)|发自我的|從我的.*傳送)`)
	// subjectPrefix are the reply and forward prefixes of a subject.
	subjectPrefix = regexp.MustCompile(`(?i)^(\s*(re|fw|fwd|aw|rv|res|回复|回覆|答复|转发)\s*(\[\d+\])?\s*[:：])+`)
)

// startsQuote reports whether lines[i] starts the quoted message.
func startsQuote(lines []string, i int) bool {
	line := lines[i]
	trimmed := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(trimmed, ">"):
		return true
	case attribution.MatchString(line), separator.MatchString(line):
		return true
	case i+1 < len(lines) && attributionStart.MatchString(line) && !attributionEnd.MatchString(line) &&
		attributionEnd.MatchString(lines[i+1]):
		return true
	case headerFrom.MatchString(line):
		for _, next := range lines[i+1 : min(i+4, len(lines))] {
			if headerNext.MatchString(next) {
				return true
			}
		}
	}
	return false
}

// startsSignature reports whether line starts the sender's signature.
func startsSignature(line string) bool {
	return line == "-- " || line == "--" || phoneSignature.MatchString(line)
}
