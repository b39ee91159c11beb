package nudge

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by the store and the pipeline.
var (
	// ErrNotFound is returned when a record does not exist (or belongs to another lender).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyClaimed is returned when an attempt for the reminder and channel exists.
	ErrAlreadyClaimed = errors.New("attempt already claimed")
	// ErrCapReached is returned when claiming an attempt would exceed a frequency cap.
	ErrCapReached = errors.New("frequency cap reached")
	// ErrUnrenderable marks a message that cannot be built from its template
	// and data (a template error, a missing template): building it again
	// would fail again, unlike a database error met while rendering.
	ErrUnrenderable = errors.New("message cannot be rendered")
	// ErrConflict is returned when a write conflicts with the current state.
	ErrConflict = errors.New("conflict")
	// ErrNotFailed is returned by a dead-letter replay of a reminder that
	// is not failed (any more). It matches ErrConflict.
	ErrNotFailed = fmt.Errorf("%w: the reminder is not failed", ErrConflict)
	// ErrReachedProvider is returned by a dead-letter replay of a reminder
	// an attempt of which may have reached the provider: replaying it could
	// send twice. It matches ErrConflict.
	ErrReachedProvider = fmt.Errorf("%w: an attempt may have reached the provider", ErrConflict)
)
