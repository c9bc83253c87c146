package topom

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error an operation returns wraps one of them, so
// callers can classify it with errors.Is; the message itself keeps the
// original Codis wording, which clients (codis-admin, codis-fe) show to
// operators.
var (
	// ErrClosed is returned once the dashboard has been closed.
	ErrClosed = errors.New("use of closed topom")
	// ErrNotOnline is returned by operations that need the lock while the
	// dashboard does not (yet) hold it.
	ErrNotOnline = errors.New("topom is not online")
	// ErrMissingXAuth and ErrInvalidXAuth are the xauth check failures.
	ErrMissingXAuth = errors.New("missing xauth, please check product name & auth")
	ErrInvalidXAuth = errors.New("invalid xauth, please check product name & auth")

	// ErrInvalidArgument: a request parameter or body is malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: the named group, server, slot action, proxy or sentinel
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: the object to create already exists.
	ErrExists = errors.New("already exists")
	// ErrRefused: the operation is not allowed in the current state (group
	// in use, promoting, migration running, ...).
	ErrRefused = errors.New("operation refused")
	// ErrRemote: a proxy, codis-server or sentinel call failed.
	ErrRemote = errors.New("remote call failed")
)

// opError is an error with a fixed operator-facing message that matches a
// sentinel through errors.Is and optionally wraps a cause.
type opError struct {
	msg   string
	kind  error
	cause error
}

func (e *opError) Error() string {
	if e.cause != nil {
		return e.msg + ", " + e.cause.Error()
	}
	return e.msg
}

func (e *opError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// errorf builds an opError of the given kind.
func errorf(kind error, format string, args ...any) error {
	return &opError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// wrapf builds an opError of the given kind whose text is the message
// followed by ", {cause}".
func wrapf(kind, cause error, format string, args ...any) error {
	return &opError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

// quietf is wrapf without the cause in the text (the cause is still
// reachable through errors.Is/As and is logged by the caller).
func quietf(kind, cause error, format string, args ...any) error {
	return &quietError{opError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}}
}

type quietError struct{ opError }

func (e *quietError) Error() string { return e.msg }
