package templates

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Encoding is the character set an SMS body is sent in.
type Encoding string

// SMS encodings.
const (
	// GSM7 is the GSM 03.38 7-bit default alphabet with its extension table.
	GSM7 Encoding = "GSM-7"
	// UCS2 is used as soon as a body holds one character outside GSM-7.
	UCS2 Encoding = "UCS-2"
)

// SMS size limits, from COMPLIANCE.md and Twilio's documentation.
const (
	// GSM7SingleSegment is the number of septets in an unsplit GSM-7 message.
	GSM7SingleSegment = 160
	// GSM7MultiSegment is the number of septets per part of a split GSM-7 message.
	GSM7MultiSegment = 153
	// UCS2SingleSegment is the number of UTF-16 code units in an unsplit UCS-2 message.
	UCS2SingleSegment = 70
	// UCS2MultiSegment is the number of UTF-16 code units per part of a split UCS-2 message.
	UCS2MultiSegment = 67
	// MaxSMSChars is Twilio's cap on a message body, in characters (counted as
	// UTF-16 code units, which is never fewer than the characters Twilio counts).
	MaxSMSChars = 1600
)

// gsmBasic holds the characters of the GSM 03.38 basic table (one septet each).
var gsmBasic = func() map[rune]bool {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	m := make(map[rune]bool, len(basic))
	for _, r := range basic {
		m[r] = true
	}
	return m
}()

// gsmExtended holds the characters of the GSM 03.38 extension table, each sent
// as an escape septet plus one: they count twice.
var gsmExtended = map[rune]bool{
	'^': true, '{': true, '}': true, '\\': true, '[': true, ']': true, '~': true, '|': true, '€': true, '\f': true,
}

// gsmASCII holds the septets each ASCII character takes in GSM-7 (0 for the
// few GSM-7 lacks), so that the counts below look most characters up in an
// array rather than two maps.
var gsmASCII = func() (t [utf8.RuneSelf]uint8) {
	for r := range t {
		switch {
		case gsmBasic[rune(r)]:
			t[r] = 1
		case gsmExtended[rune(r)]:
			t[r] = 2
		}
	}
	return t
}()

// gsmSeptets returns the septets r takes in GSM-7: 1 in the basic table, 2
// in the extension table, 0 when GSM-7 lacks it.
func gsmSeptets(r rune) int {
	switch {
	case r >= 0 && r < utf8.RuneSelf:
		return int(gsmASCII[r])
	case gsmBasic[r]:
		return 1
	case gsmExtended[r]:
		return 2
	}
	return 0
}

// IsGSM7 reports whether every character of body can be sent in GSM-7.
func IsGSM7(body string) bool {
	for _, r := range body {
		if gsmSeptets(r) == 0 {
			return false
		}
	}
	return true
}

// CountSegments returns how many SMS segments body needs, the encoding it
// will be sent in and its length in that encoding's units (septets for GSM-7,
// UTF-16 code units for UCS-2). A body fits one segment up to 160 septets (70
// UTF-16 units); past that it is split into parts of 153 (67). A character
// never straddles two parts: an extended GSM-7 character (escape plus
// character) or a UTF-16 surrogate pair that does not fit the room left in a
// part starts the next one, as carriers split them. An empty body has no
// segments.
func CountSegments(body string) (segments int, enc Encoding, length int) {
	if body == "" {
		return 0, GSM7, 0
	}
	single, multi := GSM7SingleSegment, GSM7MultiSegment
	units := gsmSeptets
	enc = GSM7
	if !IsGSM7(body) {
		enc = UCS2
		single, multi = UCS2SingleSegment, UCS2MultiSegment
		units = utf16.RuneLen
	}
	for _, r := range body {
		length += units(r)
	}
	if length <= single {
		return 1, enc, length
	}
	segments, room := 1, multi
	for _, r := range body {
		if u := units(r); u > room {
			segments++
			room = multi - u
		} else {
			room -= u
		}
	}
	return segments, enc, length
}

// utf16Len returns the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
