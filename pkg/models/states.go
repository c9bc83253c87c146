package models

// Action and promoting states. The empty string means "no action". Slot
// actions use Pending..Finished (SPEC-control §5.11); sync actions on a
// GroupServer use Pending, Syncing, Synced and SyncedFailed (§5.9); group
// promotion uses Preparing, Prepared and Finished (§5.8).
const (
	ActionNothing      = ""
	ActionPending      = "pending"
	ActionPreparing    = "preparing"
	ActionPrepared     = "prepared"
	ActionMigrating    = "migrating"
	ActionFinished     = "finished"
	ActionSyncing      = "syncing"
	ActionSynced       = "synced"
	ActionSyncedFailed = "synced_failed"
)

// ValidateSlotActionState accepts "", pending, preparing, prepared,
// migrating and finished.
func ValidateSlotActionState(state string) error {
	switch state {
	case ActionNothing, ActionPending, ActionPreparing, ActionPrepared, ActionMigrating, ActionFinished:
		return nil
	}
	return errorf(ErrInvalidState, "invalid slot action state = %q", state)
}

// ValidateSyncActionState accepts "", pending, syncing, synced and
// synced_failed.
func ValidateSyncActionState(state string) error {
	switch state {
	case ActionNothing, ActionPending, ActionSyncing, ActionSynced, ActionSyncedFailed:
		return nil
	}
	return errorf(ErrInvalidState, "invalid sync action state = %q", state)
}

// ValidatePromotingState accepts "", preparing, prepared and finished.
func ValidatePromotingState(state string) error {
	switch state {
	case ActionNothing, ActionPreparing, ActionPrepared, ActionFinished:
		return nil
	}
	return errorf(ErrInvalidState, "invalid promoting state = %q", state)
}
