package ops

// T returns the operator page's text s in the page's language. Until the
// operator pages are translated it returns s, the English text, which is
// also the key of the message catalogue.
func (v *opsView) T(s string) string { return s }
