// Package account reads the account document lenders hand to Nudge (one JSON
// shape, used by import, the API, cadence preview and explain), validates it
// with one message per problem naming the field, and normalises it: phone
// numbers to E.164, languages to BCP 47, email addresses to lower case.
//
// Files of many accounts (a JSON array, NDJSON, or CSV in UTF-8, Latin-1,
// Windows-1252 or GB18030) are read row by row, and every problem names its
// row as well. Nothing a database could refuse passes: text is valid UTF-8
// within its length limit, dates are within MinDueDate and MaxDueDate, and
// each account appears once in an import. Nothing is silently rewritten
// either: invalid bytes, vanity phone numbers and extensions are refused.
//
// The format is documented in docs/accounts.md.
package account
