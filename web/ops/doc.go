// Package ops is the operator console under /ops: server-rendered pages
// (overview, funnel, account lookup, replies that need a person, a lender's
// queue view with its actions) behind a login with an API key, and
// asynqmon mounted at /ops/queues/ for platform keys. Its templates and
// static files are embedded from templates/ and static/.
//
// Pages count days and show times in the lender's time zone (locale.go),
// over a time range of tabs or dates (range.go), and speak English,
// Spanish or simplified Chinese through gettext-style catalogues keyed by
// the English text (i18n.go). Charts are SVG computed in chart.go and
// drawn by the layout's "chart" template. The overview, funnel, replies and
// queue counts refresh themselves (static/live.js).
package ops
