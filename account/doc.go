// Package account reads the account document lenders hand to Nudge (one JSON
// shape, used by import, the API, cadence preview and explain), validates it
// with one message per problem naming the field, and normalises it: phone
// numbers to E.164, languages to BCP 47, email addresses to lower case.
//
// The format is documented in docs/accounts.md.
package account
