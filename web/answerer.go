package web

import (
	"context"

	"github.com/nudgehq/nudge/response"
)

// Answerer records and acts on a borrower's answer; *response.Handler is
// one. The voice webhooks and the self-service page both answer through it.
type Answerer interface {
	Apply(ctx context.Context, a response.Answer) (response.Outcome, error)
}
