// Package channels holds what the provider subpackages share: masking
// addresses before they reach a log or a console.
package channels

import "strings"

// twoDigitCodes are the E.164 country calling codes of two digits. Codes are
// prefix-free: 1 and 7 have one digit, these have two, every other has three.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true,
	"36": true, "39": true, "40": true, "41": true, "43": true, "44": true, "45": true,
	"46": true, "47": true, "48": true, "49": true, "51": true, "52": true, "53": true,
	"54": true, "55": true, "56": true, "57": true, "58": true, "60": true, "61": true,
	"62": true, "63": true, "64": true, "65": true, "66": true, "81": true, "82": true,
	"84": true, "86": true, "90": true, "91": true, "92": true, "93": true, "94": true,
	"95": true, "98": true,
}

// Mask hides most of an address so it can be logged: an E.164 phone number
// keeps its country code and last two digits (+1********23), an email address
// keeps its first letter and domain (j***@example.com), and anything else
// keeps only its last two characters.
func Mask(address string) string {
	switch {
	case address == "":
		return ""
	case strings.HasPrefix(address, "+") && isDigits(address[1:]):
		return maskPhone(address[1:])
	case strings.Contains(address, "@"):
		return maskEmail(address)
	}
	return maskTail(address, 2)
}

func maskPhone(digits string) string {
	cc := countryCodeLen(digits)
	if len(digits) <= cc+2 {
		return "+" + strings.Repeat("*", len(digits))
	}
	return "+" + digits[:cc] + strings.Repeat("*", len(digits)-cc-2) + digits[len(digits)-2:]
}

func countryCodeLen(digits string) int {
	switch {
	case digits[0] == '1' || digits[0] == '7':
		return 1
	case len(digits) >= 2 && twoDigitCodes[digits[:2]]:
		return 2
	}
	return 3
}

func maskEmail(address string) string {
	at := strings.LastIndex(address, "@")
	local, domain := address[:at], address[at+1:]
	if local == "" {
		return "***@" + domain
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

func maskTail(s string, keep int) string {
	r := []rune(s)
	if len(r) <= keep {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
