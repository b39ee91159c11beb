// Package ops is the operator console under /ops: server-rendered pages
// behind a login with an API key. The overview's headline numbers each open
// their list (attempts by status, channel, error code and range; deferred
// and suppressed reminders with their reasons and next times; opt-outs;
// promises; replies); one search box finds an account by id in any case,
// phone number in any format, email or name; the account page explains
// every decision and shows what each attempt said; the replies that need a
// person are a work queue (take, resolve with a note, audited); a lender's
// queue view carries its actions; asynqmon is mounted at /ops/queues/ for
// platform keys. Every page works without JavaScript. Its templates and
// static files are embedded from templates/ and static/.
//
// Pages count days and show times in the lender's time zone (locale.go),
// over a time range of tabs or dates (range.go), and speak English,
// Spanish or simplified Chinese through gettext-style catalogues keyed by
// the English text (i18n.go). Charts are SVG computed in chart.go and
// drawn by the layout's "chart" template. The overview, funnel, replies and
// queue counts refresh themselves (static/live.js).
package ops
