package nudge

import "errors"

// Sentinel errors shared by the store and the pipeline.
var (
	// ErrNotFound is returned when a record does not exist (or belongs to another lender).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyClaimed is returned when an attempt for the reminder and channel exists.
	ErrAlreadyClaimed = errors.New("attempt already claimed")
	// ErrCapReached is returned when claiming an attempt would exceed a frequency cap.
	ErrCapReached = errors.New("frequency cap reached")
	// ErrConflict is returned when a write conflicts with the current state.
	ErrConflict = errors.New("conflict")
)
