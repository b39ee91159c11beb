// Package payment holds what Nudge knows about paying: the lender's payment
// portal link (URLTemplate, a small RFC 6570 level 1 template over the
// account reference, amount and currency), payment plans (Build and Check
// split the amount due into instalments under a lender's nudge.PlanRules),
// the signed payment webhook (Sign and Verify: HMAC-SHA256 over the
// timestamp and body with a per-lender secret, Sealer keeping that secret
// sealed in the store), and Post, the one code path a payment takes,
// whether posted through the lender API or confirmed by the lender's
// payment portal: it records the payment once per payment id, keeps the
// plan instalments or promise it covers, and ends the cycle (the account
// becomes paid and what is queued is canceled) unless a plan goes on.
//
// The package does no HTTP: web/ decodes requests and calls it.
package payment
