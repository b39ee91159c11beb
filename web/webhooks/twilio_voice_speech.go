package webhooks

import (
	"fmt"
	"strings"

	"github.com/twilio/twilio-go/twiml"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/templates"
)

// voicePhrases are the few sentences of a call that are not parts of the
// voice template; a locale without its own uses English.
type voicePhrases struct {
	readBack string // %s is the date
	tooFar   string // %s is the latest date accepted
	transfer string
	callback string
	// notOption answers a key the step does not offer or speech not understood.
	notOption string
	// notDate answers keys or words that are not a date.
	notDate string
	// notConnected says a transfer to a person did not go through.
	notConnected string
	// optOutOther confirms an opt-out, said on a call, of other channels only.
	optOutOther string
}

var phrases = map[string]voicePhrases{
	"en": {
		readBack:     "You entered %s. To confirm, press 1. To enter another date, press 2.",
		tooFar:       "Sorry, we can only accept a date up to %s.",
		transfer:     "Please hold while we connect you with a member of our team.",
		callback:     "A member of our team will call you back soon.",
		notOption:    "Sorry, that is not one of the options.",
		notDate:      "Sorry, that is not a date we can accept.",
		notConnected: "Sorry, nobody from our team is available right now.",
		optOutOther:  "Thank you. We have noted your request and will stop contacting you that way.",
	},
	"es": {
		readBack:     "Usted indicó el %s. Para confirmar, marque 1. Para indicar otra fecha, marque 2.",
		tooFar:       "Lo sentimos, solo podemos aceptar una fecha hasta el %s.",
		transfer:     "Por favor, espere mientras le comunicamos con un miembro de nuestro equipo.",
		callback:     "Un miembro de nuestro equipo le devolverá la llamada pronto.",
		notOption:    "Lo sentimos, esa no es una de las opciones.",
		notDate:      "Lo sentimos, esa no es una fecha que podamos aceptar.",
		notConnected: "Lo sentimos, en este momento no hay nadie de nuestro equipo disponible.",
		optOutOther:  "Gracias. Hemos anotado su solicitud y dejaremos de contactarle por ese medio.",
	},
	"zh-CN": {
		readBack:     "您输入的日期是%s。确认请按1，重新输入请按2。",
		tooFar:       "抱歉，我们只能接受%s之前的日期。",
		transfer:     "请稍候，我们正在为您转接工作人员。",
		callback:     "我们的工作人员会尽快给您回电。",
		notOption:    "抱歉，没有这个选项。",
		notDate:      "抱歉，这不是我们可以接受的日期。",
		notConnected: "抱歉，我们的工作人员暂时无法接听。",
		optOutOther:  "谢谢。我们已记录您的要求，将不再通过该方式联系您。",
	},
}

func (c *voiceCall) phrases() voicePhrases {
	if p, ok := phrases[c.locale]; ok {
		return p
	}
	return phrases["en"]
}

func (c *voiceCall) readBackText(d nudge.Date) (string, error) {
	s, err := c.formatDate(d)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(c.phrases().readBack, s), nil
}

func (c *voiceCall) formatDate(d nudge.Date) (string, error) {
	tag := c.format
	if tag == "" {
		tag = templates.FallbackLocale
	}
	f, err := templates.NewFormatter(tag)
	if err != nil {
		return "", err
	}
	s, err := f.Date(d)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s), nil
}

// voiceFor is the Polly voice and Say language per locale tag; speech is the
// Gather language.
type voiceFor struct{ voice, say, speech string }

var voices = map[string]voiceFor{
	"en":    {"Polly.Joanna", "en-US", "en-US"},
	"en-US": {"Polly.Joanna", "en-US", "en-US"},
	"en-GB": {"Polly.Amy", "en-GB", "en-GB"},
	"es":    {"Polly.Lupe", "es-US", "es-US"},
	"es-US": {"Polly.Lupe", "es-US", "es-US"},
	"es-MX": {"Polly.Mia", "es-MX", "es-MX"},
	"es-ES": {"Polly.Lucia", "es-ES", "es-ES"},
	"zh-CN": {"Polly.Zhiyu", "cmn-CN", "cmn-Hans-CN"},
}

func (c *voiceCall) voice() voiceFor {
	for _, k := range []string{c.format, c.locale} {
		if v, ok := voices[k]; ok {
			return v
		}
	}
	if strings.HasPrefix(c.locale, "zh") {
		return voices["zh-CN"]
	}
	if base, _, _ := strings.Cut(c.locale, "-"); base != "" {
		if v, ok := voices[base]; ok {
			return v
		}
	}
	return voices["en"]
}

func (c *voiceCall) speechLanguage() string { return c.voice().speech }

func (c *voiceCall) say(text string) *twiml.VoiceSay {
	v := c.voice()
	return &twiml.VoiceSay{Message: strings.TrimSpace(text), Voice: v.voice, Language: v.say}
}
