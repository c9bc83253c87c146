package server

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// Synchronous slot migration (SPEC-data §B.5): SLOTSRESTORE on the target,
// SLOTSMGRTONE / SLOTSMGRTTAGONE / SLOTSMGRTSLOT / SLOTSMGRTTAGSLOT on the
// source.
//
// Locking: like Redis, the source performs the whole exchange with the
// target (connect, write, read the replies) inside the command, that is
// holding Server.mu. Nothing can therefore change the keys between their
// DUMP and their local deletion, and a migrated key is never visible on
// both sides to a client of the source. The price is that every other
// client of the source waits for the round trip; each network step is
// bounded by the command's timeout (100 ms when 0 is given), so a dead
// target stalls the server for at most a few timeouts.

func init() {
	register(
		&Command{Name: "slotsrestore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 3, Proc: slotsrestoreCommand},
		&Command{Name: "slotsmgrtone", Arity: 5, Flags: FlagWrite, FirstKey: 4, LastKey: 4, Step: 1, Proc: slotsmgrtoneCommand},
		&Command{Name: "slotsmgrttagone", Arity: 5, Flags: FlagWrite, FirstKey: 4, LastKey: 4, Step: 1, Proc: slotsmgrttagoneCommand},
		&Command{Name: "slotsmgrtslot", Arity: 5, Flags: FlagWrite, Proc: slotsmgrtslotCommand},
		&Command{Name: "slotsmgrttagslot", Arity: 5, Flags: FlagWrite, Proc: slotsmgrttagslotCommand},
	)
}

// slotsrestoreMaxVersion is the highest payload version SLOTSRESTORE
// accepts. The original codis-server stops at 7; we also accept what
// Redis 7.0 DUMP writes (up to 10), a superset no well-behaved 3.2 source
// can notice, so that keys can be moved from a stock Redis 7 as well.
const slotsrestoreMaxVersion = rdb.MaxVersionRedis7

// slotsrestoreCommand: SLOTSRESTORE key ttl payload [key ttl payload ...].
// Every triple is validated and decoded before anything is written, so the
// command is atomic; existing keys are always overwritten.
func slotsrestoreCommand(c *client, argv [][]byte) {
	if (len(argv)-1)%3 != 0 {
		c.addError(errWrongArgs("slotsrestore"))
		return
	}
	n := (len(argv) - 1) / 3
	lim := c.s.encLimits() // as RESTORE: the target's own encoding thresholds
	ttls := make([]int64, n)
	entries := make([]*Entry, n)
	for i := range n {
		ttl, ok := parseInt64(argv[2+3*i])
		if !ok {
			c.addError(errNotInt)
			return
		}
		if ttl < 0 {
			c.addError("ERR invalid ttl value, must be >= 0")
			return
		}
		e, err := decodePayloadLim(argv[3+3*i], slotsrestoreMaxVersion, &lim)
		if err != nil {
			if errors.Is(err, rdb.ErrChecksum) {
				c.addError("ERR dump payload version or checksum are wrong")
			} else {
				c.addError("ERR bad data format")
			}
			return
		}
		ttls[i], entries[i] = ttl, e
	}
	db, now := c.db, c.s.ks.now
	for i := range n {
		key := argv[1+3*i]
		if db.Delete(key) {
			c.s.log.Debug("slotsrestore: overwriting existing key", "key", string(key))
		}
		e := entries[i]
		if ttls[i] > 0 {
			e.expireAt = now + min(ttls[i], math.MaxInt64-now)
		}
		db.Add(key, e)
	}
	c.addOK()
}

// parseMgrtTimeout parses a sync migration timeout (§B.2): 0 means 100 ms.
func (c *client) parseMgrtTimeout(b []byte) (time.Duration, bool) {
	n, ok := c.parseIntRange(b)
	if !ok {
		return 0, false
	}
	if n < 0 {
		c.addError(fmt.Sprintf("ERR invalid timeout = %d", n))
		return 0, false
	}
	if n == 0 {
		n = 100
	}
	return time.Duration(n) * time.Millisecond, true
}

// parseIntRange parses an integer that must fit in int32 (§B.2).
func (c *client) parseIntRange(b []byte) (int64, bool) {
	n, ok := parseInt64(b)
	if !ok {
		c.addError(errNotInt)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		c.addError("ERR value is out of range")
		return 0, false
	}
	return n, true
}

// mgrtConn is a cached connection to a migration target, keyed by the
// literal "host:port". Guarded by Server.mu.
type mgrtConn struct {
	conn     net.Conn
	br       *bufio.Reader
	db       int  // last SELECTed DB, -1 unknown
	authed   bool // AUTH sent and accepted (or not needed)
	used     bool // a migration was attempted on it
	lastUsed time.Time
}

// mgrtIdleTimeout: cached target connections unused for longer are closed
// by the cron.
const mgrtIdleTimeout = 15 * time.Second

// mgrtError is a migration failure with its reply text.
type mgrtError string

func (e mgrtError) Error() string { return string(e) }

const (
	errMgrtConnect = mgrtError("IOERR error or timeout connecting to the client")
	errMgrtWrite   = mgrtError("IOERR error or timeout writing to target")
	errMgrtRead    = mgrtError("IOERR error or timeout reading from target")
	errMgrtAuth    = mgrtError("ERR error on slotsrestore, auth failed")
	errMgrtSelect  = mgrtError("ERR error on slotsrestore, select failed")
	errMgrtRestore = mgrtError("ERR error on slotsrestore, migration failed")
)

// mgrtGetConn returns the cached connection to host:port, connecting if
// needed (mu held).
func (s *Server) mgrtGetConn(host string, port int64, timeout time.Duration) (*mgrtConn, error) {
	name := host + ":" + strconv.FormatInt(port, 10)
	if mc := s.mgrtConns[name]; mc != nil {
		mc.lastUsed = time.Now()
		return mc, nil
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10)))
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
			// The original connects without blocking and only notices a
			// refused connection when writing.
			return nil, errMgrtWrite
		case errors.As(err, &ne) && ne.Timeout():
			return nil, errMgrtConnect
		}
		return nil, mgrtError("ERR Can't connect to target node: " + err.Error())
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	mc := &mgrtConn{conn: conn, br: bufio.NewReader(conn), db: -1,
		authed: s.cfg.RequirePass == "", lastUsed: time.Now()}
	if s.mgrtConns == nil {
		s.mgrtConns = make(map[string]*mgrtConn)
	}
	s.mgrtConns[name] = mc
	s.log.Info("slotsmgrt: connected to target", "addr", name)
	return mc, nil
}

// mgrtDropConn closes and forgets the cached connection to host:port.
func (s *Server) mgrtDropConn(host string, port int64) {
	name := host + ":" + strconv.FormatInt(port, 10)
	if mc := s.mgrtConns[name]; mc != nil {
		_ = mc.conn.Close()
		delete(s.mgrtConns, name)
	}
}

// mgrtCloseIdle closes cached connections idle for longer than
// mgrtIdleTimeout, or all of them with all set (mu held).
func (s *Server) mgrtCloseIdle(now time.Time, all bool) {
	s.asyncCron(now, all)        // semi-async links (t_mgrt_async.go)
	s.migrateCloseIdle(now, all) // MIGRATE (t_migrate_key.go)
	for name, mc := range s.mgrtConns {
		if all || now.Sub(mc.lastUsed) > mgrtIdleTimeout {
			_ = mc.conn.Close()
			delete(s.mgrtConns, name)
			if !all {
				s.log.Info("slotsmgrt: closed idle target connection", "addr", name)
			}
		}
	}
}

// mgrtKey is one key to migrate.
type mgrtKey struct {
	key []byte
	e   *Entry
}

// mgrtSend restores keys on the target through mc: AUTH and SELECT when
// needed, then one SLOTSRESTORE with every key (mu held).
func (c *client) mgrtSend(mc *mgrtConn, keys []mgrtKey, timeout time.Duration) error {
	s := c.s
	var buf []byte
	var expect []mgrtError // error for each reply line, in order
	sentAuth := false
	if !mc.authed && s.cfg.RequirePass != "" {
		buf = resp.AppendCommandStrings(buf, "AUTH", s.cfg.RequirePass)
		expect = append(expect, errMgrtAuth)
		sentAuth = true
	}
	sentSelect := mc.db != c.db.id
	if sentSelect {
		buf = resp.AppendCommandStrings(buf, "SELECT", strconv.Itoa(c.db.id))
		expect = append(expect, errMgrtSelect)
	}
	buf = resp.AppendArrayLen(buf, 1+3*len(keys))
	buf = resp.AppendBulkString(buf, "SLOTSRESTORE")
	now := s.ks.now
	for _, k := range keys {
		ttl := int64(0)
		if k.e.expireAt != 0 {
			ttl = max(k.e.expireAt-now, 1)
		}
		payload, err := dumpEntry(k.e)
		if err != nil {
			return mgrtError("ERR " + err.Error())
		}
		buf = resp.AppendBulk(buf, k.key)
		buf = resp.AppendBulkInt(buf, ttl)
		buf = resp.AppendBulk(buf, payload)
	}
	expect = append(expect, errMgrtRestore)
	for off := 0; off < len(buf); {
		end := min(off+64<<10, len(buf))
		_ = mc.conn.SetWriteDeadline(time.Now().Add(timeout))
		n, err := mc.conn.Write(buf[off:end])
		if err != nil {
			return errMgrtWrite
		}
		off += n
	}
	for i, fail := range expect {
		_ = mc.conn.SetReadDeadline(time.Now().Add(timeout))
		line, err := mc.br.ReadSlice('\n')
		first := byte(0)
		if len(line) > 0 {
			first = line[0]
		}
		for err == bufio.ErrBufferFull { // an over-long line: only its first byte matters
			_, err = mc.br.ReadSlice('\n')
		}
		if err != nil {
			return errMgrtRead
		}
		last := i == len(expect)-1
		if (last && first == '-') || (!last && first != '+') {
			return fail
		}
	}
	if sentAuth {
		mc.authed = true
	}
	if sentSelect {
		mc.db = c.db.id
	}
	return nil
}

// mgrtConnect parses "host port timeout" and obtains the target connection,
// replying the error itself.
func (c *client) mgrtConnect(argv [][]byte) (host string, port int64, mc *mgrtConn, timeout time.Duration, ok bool) {
	host = string(argv[1])
	if port, ok = c.parseIntRange(argv[2]); !ok {
		return
	}
	if timeout, ok = c.parseMgrtTimeout(argv[3]); !ok {
		return
	}
	var err error
	mc, err = c.s.mgrtGetConn(host, port, timeout)
	if err != nil {
		c.addError(err.Error())
		return host, port, nil, 0, false
	}
	return host, port, mc, timeout, true
}

// mgrtKeys migrates keys (live ones found by the caller) and deletes them
// locally on success. It returns how many were moved, or replies the error
// and returns false.
func (c *client) mgrtKeys(host string, port int64, mc *mgrtConn, timeout time.Duration, keys []mgrtKey) (int, bool) {
	if len(keys) == 0 {
		return 0, true
	}
	reused := mc.used
	mc.used = true
	err := c.mgrtSend(mc, keys, timeout)
	if reused && (err == errMgrtWrite || err == errMgrtRead) {
		// The cached connection may have been closed by the target (e.g.
		// its idle timeout): retry once on a new one. SLOTSRESTORE
		// overwrites, so a repeat is harmless.
		c.s.mgrtDropConn(host, port)
		if mc, err = c.s.mgrtGetConn(host, port, timeout); err == nil {
			mc.used = true
			err = c.mgrtSend(mc, keys, timeout)
		}
	}
	if err != nil {
		c.s.mgrtDropConn(host, port)
		c.addError(err.Error())
		return 0, false
	}
	for _, k := range keys {
		c.db.Delete(k.key)
		c.propagateInstead(bDEL, k.key)
	}
	return len(keys), true
}

// liveKey returns the key as a migration item if it exists.
func (c *client) liveKey(key []byte) []mgrtKey {
	if e := c.db.Lookup(key); e != nil {
		return []mgrtKey{{key: key, e: e}}
	}
	return nil
}

// tagGroup returns the live keys of key's tag group (key alone if it has
// no tag).
func (c *client) tagGroup(key []byte) []mgrtKey {
	names, tagged := c.db.tagKeys(key)
	if !tagged {
		return c.liveKey(key)
	}
	var out []mgrtKey
	for _, k := range names {
		kb := []byte(k)
		if e := c.db.Lookup(kb); e != nil {
			out = append(out, mgrtKey{key: kb, e: e})
		}
	}
	return out
}

func slotsmgrtoneCommand(c *client, argv [][]byte)    { c.mgrtOne(argv, false) }
func slotsmgrttagoneCommand(c *client, argv [][]byte) { c.mgrtOne(argv, true) }

func (c *client) mgrtOne(argv [][]byte, tag bool) {
	host, port, mc, timeout, ok := c.mgrtConnect(argv)
	if !ok {
		return
	}
	var keys []mgrtKey
	if tag {
		keys = c.tagGroup(argv[4])
	} else {
		keys = c.liveKey(argv[4])
	}
	n, ok := c.mgrtKeys(host, port, mc, timeout, keys)
	if ok {
		c.addInt(int64(n))
	}
}

func slotsmgrtslotCommand(c *client, argv [][]byte)    { c.mgrtSlot(argv, false) }
func slotsmgrttagslotCommand(c *client, argv [][]byte) { c.mgrtSlot(argv, true) }

func (c *client) mgrtSlot(argv [][]byte, tag bool) {
	host := string(argv[1])
	port, ok := c.parseIntRange(argv[2])
	if !ok {
		return
	}
	timeout, ok := c.parseMgrtTimeout(argv[3])
	if !ok {
		return
	}
	slot, ok := c.parseSlot(argv[4])
	if !ok {
		return
	}
	mc, err := c.s.mgrtGetConn(host, port, timeout)
	if err != nil {
		c.addError(err.Error())
		return
	}
	n := 0
	if k, ok := c.db.randomSlotKey(slot); ok {
		var keys []mgrtKey
		if tag {
			keys = c.tagGroup([]byte(k))
		} else {
			keys = c.liveKey([]byte(k))
		}
		if n, ok = c.mgrtKeys(host, port, mc, timeout, keys); !ok {
			return
		}
	}
	c.addArrayLen(2)
	c.addInt(int64(n))
	c.addInt(int64(c.db.keysOfSlot(slot)))
}

// randomSlotKey returns a random key of a slot (possibly logically
// expired).
func (db *DB) randomSlotKey(slot int) (string, bool) {
	keys := db.shards[slot].keys
	if len(keys) == 0 {
		return "", false
	}
	// Map iteration starts at a random position; skip a few more so small
	// slots do not always yield the same first key.
	skip := rand.IntN(min(len(keys), 16))
	for k := range keys {
		if skip == 0 {
			return k, true
		}
		skip--
	}
	return "", false
}
