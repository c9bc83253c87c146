package server

import (
	"errors"

	"github.com/codisgo/codis/pkg/rdb"
)

// DUMP and RESTORE (Redis 7.0 semantics). DUMP emits version-7 payloads
// with the classic object types (DESIGN decision 3), which both the
// original codis-server and Redis 7 restore; RESTORE accepts everything
// Redis 7.0 DUMP produces (versions up to 10).

func init() {
	register(
		&Command{Name: "dump", Arity: 2, Flags: FlagReadOnly | FlagRandom, FirstKey: 1, LastKey: 1, Step: 1, Proc: dumpCommand},
		&Command{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Proc: restoreCommand},
	)
}

const (
	errDumpPayload = "ERR DUMP payload version or checksum are wrong"
	errBadData     = "ERR Bad data format"
	errBusyKey     = "BUSYKEY Target key name already exists."
)

func dumpCommand(c *client, argv [][]byte) {
	e := c.db.LookupRead(argv[1])
	if e == nil {
		c.addNull()
		return
	}
	p, err := dumpEntry(e)
	if err != nil {
		c.addError("ERR " + err.Error())
		return
	}
	c.addBulk(p)
}

// restorePayloadError maps a decoding error to Redis's reply.
func restorePayloadError(err error) string {
	if errors.Is(err, rdb.ErrChecksum) {
		return errDumpPayload
	}
	return errBadData
}

func restoreCommand(c *client, argv [][]byte) {
	var (
		replace, absTTL bool
		freq, idle      int64 = -1, -1
	)
	for j := 4; j < len(argv); j++ {
		more := len(argv) - j - 1
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "absttl"):
			absTTL = true
		case eqFold(argv[j], "idletime") && more >= 1 && freq == -1:
			n, ok := parseInt64(argv[j+1])
			if !ok {
				c.addError(errNotInt)
				return
			}
			if n < 0 {
				c.addError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case eqFold(argv[j], "freq") && more >= 1 && idle == -1:
			n, ok := parseInt64(argv[j+1])
			if !ok {
				c.addError(errNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.addError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	db, key := c.db, argv[1]
	if !replace && db.Lookup(key) != nil {
		c.addError(errBusyKey)
		return
	}
	ttl, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if ttl < 0 {
		c.addError("ERR Invalid TTL value, must be >= 0")
		return
	}
	lim := c.s.encLimits()
	e, err := decodePayloadLim(argv[3], rdb.MaxVersionRedis7, &lim)
	if err != nil {
		c.addError(restorePayloadError(err))
		return
	}
	deleted := replace && db.Delete(key)
	now := c.s.ks.now
	if ttl != 0 && !absTTL {
		ttl += now // wraps like Redis on absurd values, which then count as expired
	}
	if ttl != 0 && ttl <= now && c.s.cfg.ReplicaOfHost == "" {
		if deleted {
			c.notify(notifyGeneric, "del", key)
		}
		c.addOK() // already expired: the (replaced) key is simply gone
		return
	}
	e.expireAt = ttl
	db.Add(key, e)
	if db.ks.lfu {
		if freq >= 0 {
			e.freq = uint8(freq)
		}
	} else if idle >= 0 {
		clock := int64(db.ks.lruClock)
		e.lru = uint32(max(clock-idle, 0))
	}
	c.notify(notifyGeneric, "restore", key)
	c.addOK()
}
