package models

import (
	"fmt"
	"regexp"

	"github.com/codisgo/codis/pkg/utils/slot"
)

const (
	// MaxSlotNum is the number of slots; slot ids are 0..MaxSlotNum-1.
	MaxSlotNum = slot.Count
	// MaxGroupId is the largest group id; group ids are 1..MaxGroupId and
	// group id 0 means "offline / no group".
	MaxGroupId = 9999
)

var nameRegexp = regexp.MustCompile(`^\w[\w\.\-]*$`)

// ValidateProductName checks name against ^\w[\w\.\-]*$ (\w is ASCII
// letters, digits and underscore).
func ValidateProductName(name string) error {
	if !nameRegexp.MatchString(name) {
		return fmt.Errorf("%w = %q", ErrInvalidProductName, name)
	}
	return nil
}

// ValidateSlotID checks 0 <= sid < MaxSlotNum; the error reads
// "invalid slot id = N".
func ValidateSlotID(sid int) error {
	if sid < 0 || sid >= MaxSlotNum {
		return fmt.Errorf("%w = %d", ErrInvalidSlotID, sid)
	}
	return nil
}

// ValidateGroupID checks 1 <= gid <= MaxGroupId; the error reads
// "invalid group id = N".
func ValidateGroupID(gid int) error {
	if gid <= 0 || gid > MaxGroupId {
		return fmt.Errorf("%w = %d", ErrInvalidGroupID, gid)
	}
	return nil
}

// ValidateToken checks that a proxy token can name a store node: it must
// match the same pattern as product names (tokens are 32 hex digits).
func ValidateToken(token string) error {
	if !nameRegexp.MatchString(token) {
		return fmt.Errorf("%w = %q", ErrInvalidToken, token)
	}
	return nil
}
