package server

import (
	"fmt"
	"math"
	"strconv"

	keyslot "github.com/codisgo/codis/pkg/utils/slot"
)

// Codis slot commands that need no migration (SPEC-data §B.2–§B.4).

func init() {
	register(
		&Command{Name: "slotsinfo", Arity: -1, Flags: FlagReadOnly | FlagFast, Proc: slotsinfoCommand},
		&Command{Name: "slotsscan", Arity: -3, Flags: FlagReadOnly | FlagRandom, Proc: slotsscanCommand},
		&Command{Name: "slotsdel", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1, Proc: slotsdelCommand},
		&Command{Name: "slotshashkey", Arity: -1, Flags: FlagReadOnly | FlagFast, Proc: slotshashkeyCommand},
		&Command{Name: "slotscheck", Arity: 0, Flags: FlagReadOnly, Proc: slotscheckCommand},
	)
}

// parseSlot validates a slot argument (§B.2); it replies the error itself.
func (c *client) parseSlot(b []byte) (int, bool) {
	n, ok := parseInt64(b)
	if !ok {
		c.addError(errNotInt)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		c.addError("ERR value is out of range")
		return 0, false
	}
	if n < 0 || n >= NumSlots {
		c.addError(fmt.Sprintf("ERR invalid slot number = %d", n))
		return 0, false
	}
	return int(n), true
}

func slotshashkeyCommand(c *client, argv [][]byte) {
	c.addArrayLen(len(argv) - 1)
	for _, k := range argv[1:] {
		c.addInt(int64(SlotOf(k)))
	}
}

func slotsinfoCommand(c *client, argv [][]byte) {
	start, count := 0, NumSlots
	if len(argv) >= 2 {
		s, ok := c.parseSlot(argv[1])
		if !ok {
			return
		}
		start = s
	}
	if len(argv) >= 3 {
		n, ok := parseInt64(argv[2])
		if !ok {
			c.addError(errNotInt)
			return
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			c.addError("ERR value is out of range")
			return
		}
		if n < 0 {
			c.addError(fmt.Sprintf("ERR invalid slot count = %d", n))
			return
		}
		count = int(n)
	}
	if len(argv) > 3 {
		c.addError(errWrongArgs("slotsinfo"))
		return
	}
	end := min(start+count, NumSlots)
	var slots []int
	for s := start; s < end; s++ {
		if c.db.keysOfSlot(s) > 0 {
			slots = append(slots, s)
		}
	}
	c.addArrayLen(len(slots))
	for _, s := range slots {
		c.addArrayLen(2)
		c.addInt(int64(s))
		c.addInt(int64(c.db.keysOfSlot(s)))
	}
}

func slotsscanCommand(c *client, argv [][]byte) {
	slot, ok := c.parseSlot(argv[1])
	if !ok {
		return
	}
	cur, ok := parseCursor(argv[2])
	if !ok {
		c.addError(errInvalidCurs)
		return
	}
	if len(argv) != 3 && len(argv) != 5 {
		c.addError(errWrongArgs("slotsscan"))
		return
	}
	count := int64(10)
	if len(argv) == 5 {
		if !eqFold(argv[3], "count") {
			c.addError(errSyntax)
			return
		}
		n, ok := parseInt64(argv[4])
		if !ok || n < 1 {
			c.addError(errSyntax)
			return
		}
		count = n
	}
	// Logically expired keys not yet reclaimed are returned too (§B.1).
	keys, next := c.db.shards[slot].scanSlot(cur, int(min(count, 1<<20)))
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(next, 10))
	c.addBulkStrings(keys)
}

func slotsdelCommand(c *client, argv [][]byte) {
	slots := make([]int, 0, len(argv)-1)
	for _, a := range argv[1:] {
		s, ok := c.parseSlot(a)
		if !ok {
			return
		}
		slots = append(slots, s)
	}
	db := c.db
	c.addArrayLen(len(slots))
	for _, s := range slots {
		sh := &db.shards[s]
		keys := make([]string, 0, len(sh.keys))
		for k := range sh.keys {
			keys = append(keys, k)
		}
		for _, k := range keys {
			kb := []byte(k)
			if e := sh.keys[k]; e != nil {
				db.remove(sh, kb, e)
				db.signal(kb, false)
			}
		}
		c.addArrayLen(2)
		c.addInt(int64(s))
		c.addInt(int64(len(sh.keys)))
	}
}

func slotscheckCommand(c *client, argv [][]byte) {
	db := c.db
	// With the slot sets being the key maps, steps 1 and 2 check that each
	// key lives in the shard of its own slot; step 3 checks the tag index.
	for s := range db.shards {
		for k := range db.shards[s].keys {
			if SlotOf([]byte(k)) != s {
				c.addError(fmt.Sprintf("ERR step 2, miss = '%s'", k))
				return
			}
		}
	}
	for s := range db.shards {
		sh := &db.shards[s]
		for crc, g := range sh.tags {
			for k := range g {
				_, tagged, kc := keyslot.Lookup([]byte(k))
				if _, ok := sh.keys[k]; !ok || !tagged || kc != crc {
					c.addError(fmt.Sprintf("ERR step 3, miss = '%s'", k))
					return
				}
			}
		}
	}
	c.addOK()
}
