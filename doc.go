// Package nudge holds the domain of the Nudge reminder dispatcher: lenders,
// accounts and their contacts and holds, reminders planned from cadences,
// attempts to reach a borrower, the borrower's replies and promises to pay,
// opt-outs, and the small interfaces the other packages meet.
//
// The package imports the standard library only. Parsing the account
// document a lender hands us (with phone-number normalisation) lives in
// package account; the rules that decide whether a borrower may be contacted
// live in package compliance; the system of record lives in package store.
package nudge
