// Package borrower serves the pages borrowers reach from their reminders:
// the self-service page (/p/…: promise to pay, report a payment, stop
// contact) and the one-click unsubscribe page (/u/…), in the borrower's
// language, with the texts of both.
package borrower
