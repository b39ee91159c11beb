// Package ops is the operator console under /ops: server-rendered pages
// (overview, funnel, account lookup, replies that need a person, a lender's
// queue view with its actions) behind a login with an API key, and
// asynqmon mounted at /ops/queues/ for platform keys. Its templates and
// static files are embedded from templates/ and static/.
package ops
