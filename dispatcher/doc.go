// Package dispatcher carries reminders from the queue to the provider.
//
// The Enqueuer puts one Asynq task per reminder on the queue of its channel,
// with the reminder id as TaskID so that replicas enqueueing the same reminder
// agree. The worker Server takes tasks off the queues by weighted priority
// and hands each to the Pipeline, a chain of small stages:
//
//	load → account → decide → claim → render → rate limit → send
//
// load drops reminders that are gone, finished or expired; account picks the
// address; decide asks package compliance again at send time and defers or
// suppresses; claim records the attempt as sending before the provider is
// called, so a task that is delivered twice never reaches the borrower twice;
// render builds the message; rate limit takes a token from the sender's bucket
// in Redis; send calls the provider and records the outcome. Every stage
// writes what it decided to the store's event log.
//
// A deferral or a rate limit makes the task run again later without counting
// as a failure (IsFailure, RetryDelay); a transient provider error is retried
// with capped exponential back-off; a permanent one is recorded and never
// retried.
package dispatcher
