// Package api is the lender REST API under /v1: account imports and
// timelines, payments, holds, personal-data erasure, opt-outs, cadences,
// promises, reminders and attempts, queue control and pauses, and the
// OpenAPI document describing them. Every route but the document needs a
// lender's API key (web.ParseAPIToken); the shared web.Server applies the
// body and rate limits before a route runs.
package api
