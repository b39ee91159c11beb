package ops

// catalogueES is the console in Spanish, by English text (see ops_i18n.go).
var catalogueES = map[string]string{}
