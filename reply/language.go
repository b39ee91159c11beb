package reply

import (
	"strings"
)

// monthFirstCountries write numeric dates month first: the United States
// and its territories, the Philippines, Canada (except in French), and the
// year-first countries of East Asia, whose month/day order carries over to
// 12/5 written without a year. Every other country is day first.
var monthFirstCountries = map[string]bool{
	"US": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true, "FM": true, "MH": true,
	"PW": true, "PH": true, "CA": true, "CN": true, "TW": true, "JP": true, "KR": true, "MN": true,
}

// monthFirst decides how to read 12/05. Spanish is read day first wherever
// the borrower lives (a Spanish speaker in the US writes 10/12 for 10
// December). Otherwise the region of the language tag decides (en-GB day
// first, en-US month first), then the country, then the language (en, zh,
// ja and ko month first, as Nudge's default market is the US; others day
// first).
func monthFirst(country, language string) bool {
	lang := strings.ToLower(strings.ReplaceAll(language, "_", "-"))
	base, region, _ := strings.Cut(lang, "-")
	if i := strings.IndexByte(region, '-'); i >= 0 {
		// zh-Hans-CN: skip the script.
		region = region[i+1:]
	}
	if base == "es" {
		return false
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if len(region) == 2 {
		country = strings.ToUpper(region)
	}
	if country != "" {
		if country == "CA" && base == "fr" {
			return false
		}
		return monthFirstCountries[country]
	}
	switch base {
	case "", "en", "zh", "ja", "ko":
		return true
	}
	return false
}

// spanishWords and englishWords are common words that tell the two
// languages apart in short replies.
var (
	spanishWords = map[string]bool{
		"pago": true, "pagar": true, "pagare": true, "pague": true, "pagado": true, "manana": true, "hoy": true, "ayer": true,
		"lunes": true, "martes": true, "miercoles": true, "jueves": true, "viernes": true, "sabado": true, "domingo": true,
		"el": true, "la": true, "los": true, "las": true, "de": true, "del": true, "que": true, "ya": true, "mas": true,
		"quiero": true, "puedo": true, "voy": true, "hablar": true, "alguien": true, "numero": true, "equivocado": true,
		"gracias": true, "favor": true, "alto": true, "baja": true, "ayuda": true, "dias": true, "semana": true,
		"enero": true, "febrero": true, "marzo": true, "abril": true, "mayo": true, "junio": true, "julio": true,
		"agosto": true, "septiembre": true, "octubre": true, "noviembre": true, "diciembre": true, "mes": true,
		"hola": true, "dinero": true, "proximo": true, "este": true, "esta": true, "soy": true, "yo": true, "mi": true,
		"pesos": true, "dolares": true, "llamar": true, "llamame": true, "mensajes": true, "con": true, "para": true,
		"hice": true, "pasado": true, "dentro": true, "persona": true, "tengo": true, "puede": true, "usted": true,
		"llames": true, "llamen": true, "llame": true, "llamadas": true, "marcarme": true, "mandes": true, "manden": true,
		"escribas": true, "escriban": true, "correos": true, "dejen": true, "dejenme": true, "dejame": true, "paz": true,
		"contacten": true, "molesten": true, "abogado": true, "demandar": true, "acoso": true, "queja": true, "esto": true,
		"ni": true, "nos": true, "es": true, "una": true, "por": true,
	}
	englishWords = map[string]bool{
		"i": true, "i'll": true, "will": true, "pay": true, "paying": true, "payment": true, "the": true, "on": true,
		"by": true, "next": true, "today": true, "tomorrow": true, "can": true, "stop": true, "please": true,
		"paid": true, "already": true, "wrong": true, "number": true, "call": true, "talk": true, "to": true,
		"someone": true, "you": true, "my": true, "is": true, "it": true, "this": true, "yes": true, "start": true,
		"help": true, "info": true, "unsubscribe": true, "cancel": true, "end": true, "quit": true, "dollars": true,
		"and": true, "of": true, "in": true, "days": true, "week": true, "not": true, "don't": true, "can't": true,
		"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true,
		"sunday": true, "mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true,
		"texting": true, "me": true, "have": true, "get": true, "need": true, "want": true, "what": true, "who": true,
		"at": true, "for": true, "we": true, "thanks": true, "sorry": true, "month": true,
		"more": true, "calls": true, "calling": true, "texts": true, "emails": true, "emailing": true, "leave": true,
		"alone": true, "contacting": true, "sue": true, "lawyer": true, "attorney": true, "harassment": true,
		"harassing": true, "reporting": true, "anymore": true, "or": true, "text": true,
	}
)

// detectLanguage tells the language of a reply: zh-CN when it has Han
// characters, es when Spanish accents or words outnumber English words, en
// when English words do, the borrower's language on a tie between the two,
// and "" when nothing tells.
func detectLanguage(raw string, toks []token, hint string) string {
	es, en := 0, 0
	if strings.ContainsAny(raw, "¿¡") {
		es += 2
	}
	for _, t := range toks {
		switch t.kind {
		case tHan:
			return "zh-CN"
		case tWord:
			if t.accented() && t.text != "" {
				es++
			}
			if spanishWords[t.text] {
				es++
			}
			if englishWords[t.text] {
				en++
			}
		}
	}
	switch {
	case es > en:
		return "es"
	case en > es:
		return "en"
	case es > 0 && (hint == "es" || hint == "en"):
		return hint
	}
	return ""
}
