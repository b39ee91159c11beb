// Package borrower serves the pages borrowers reach from their reminders:
// the self-service page (/p/…: pay now through the lender's payment link,
// choose a payment plan, promise to pay, report a payment, stop contact;
// a return visit shows the plan or the payment being checked) and the
// one-click unsubscribe page (/u/…), in the borrower's language, with the
// texts of both.
package borrower
