package models

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidProductName is wrapped when a product name does not match
	// ^\w[\w\.\-]*$.
	ErrInvalidProductName = errors.New("invalid product name")
	// ErrInvalidSlotID is wrapped when a slot id is outside 0..MaxSlotNum-1.
	ErrInvalidSlotID = errors.New("invalid slot id")
	// ErrInvalidGroupID is wrapped when a group id is outside 1..MaxGroupId.
	ErrInvalidGroupID = errors.New("invalid group id")
	// ErrInvalidToken is wrapped when a proxy token cannot be used as a
	// store node name.
	ErrInvalidToken = errors.New("invalid proxy token")
	// ErrInvalidState is wrapped when an action or promoting state is not
	// one of the known values.
	ErrInvalidState = errors.New("invalid state")
	// ErrInvalidForwardMethod is wrapped when a Slot's forward_method is
	// neither ForwardSync nor ForwardSemiAsync.
	ErrInvalidForwardMethod = errors.New("invalid forward method")
	// ErrNilModel is returned when a nil model is passed to a Store write.
	ErrNilModel = errors.New("nil model")
	// ErrNilClient is returned by NewStore for a nil Client.
	ErrNilClient = errors.New("nil coordinator client")
	// ErrInconsistentNode is wrapped when a node's content does not match
	// its path (e.g. group-0001 holding group 2).
	ErrInconsistentNode = errors.New("inconsistent node")
	// ErrInvalidConfig is wrapped by every ConfigV3.Validate error.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrInvalidConfigV1 is wrapped by every ConvertV1 error.
	ErrInvalidConfigV1 = errors.New("invalid v1 config")
	// ErrProductNotFound is wrapped by Store.DumpConfig and DumpV1 when the
	// product has nothing stored ("cann't find product = P [v3]", sic).
	ErrProductNotFound = errors.New("cann't find product")
	// ErrProductNotEmpty is wrapped by Store.RestoreConfig when the product
	// already has groups or proxies.
	ErrProductNotEmpty = errors.New("product is not empty")
)

// textError is an error with a fixed message that still matches a
// sentinel through errors.Is. It lets messages keep the original Codis
// wording (which has no room for a "sentinel: " prefix).
type textError struct {
	msg string
	err error
}

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &textError{msg: fmt.Sprintf(format, args...), err: sentinel}
}

// DecodeError reports data that is not valid JSON for the model read from
// Path. Its message is "decode {path}: {cause}".
type DecodeError struct {
	Path string // store path (or file name) the data came from
	Err  error  // the encoding/json error
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return "decode: " + e.Err.Error()
	}
	return "decode " + e.Path + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }
