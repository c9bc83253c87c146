package server

import keyslot "github.com/codisgo/codis/pkg/utils/slot"

// NumSlots is the number of codis slots.
const NumSlots = keyslot.Count

// SlotOf returns the codis slot of key (SPEC-data §A.1–A.2).
func SlotOf(key []byte) int { return keyslot.Of(key) }
