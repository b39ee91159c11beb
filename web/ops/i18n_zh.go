package ops

// catalogueZH is the console in simplified Chinese, by English text (see ops_i18n.go).
var catalogueZH = map[string]string{}
