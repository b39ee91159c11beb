package twiliosim

// gsmBasic is the GSM 03.38 basic character set; gsmExtended holds the
// characters that take an escape plus one septet.
const (
	gsmBasic    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtended {
		m[r] = 2
	}
	return m
}()

// Segments counts the SMS segments of body the way carriers split it: GSM-7
// when every character is in the GSM alphabet (160 septets, 153 per part when
// split), UCS-2 otherwise (70 characters, 67 per part, counting UTF-16 units).
func Segments(body string) int {
	if body == "" {
		return 1
	}
	septets, gsm := 0, true
	for _, r := range body {
		n, ok := gsmSeptets[r]
		if !ok {
			gsm = false
			break
		}
		septets += n
	}
	if gsm {
		return split(septets, 160, 153)
	}
	units := 0
	for _, r := range body {
		if r > 0xFFFF {
			units += 2
		} else {
			units++
		}
	}
	return split(units, 70, 67)
}

func split(n, single, part int) int {
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}
