package server

import (
	"math/rand/v2"
	"slices"
	"time"

	keyslot "github.com/codisgo/codis/pkg/utils/slot"
)

// shard holds the keys of one (db, slot): the slot set of SPEC-data §B.1 is
// the key map itself.
type shard struct {
	keys     map[string]*Entry              // every key of the slot
	volatile map[string]*Entry              // the keys with an expiry (shares key strings)
	tags     map[uint32]map[string]struct{} // tag CRC → tagged keys (the tag index)
}

// DB is one logical database. All methods must be called with the
// keyspace lock (Server.mu) held.
type DB struct {
	id int
	ks *keyspace
	// shards points at emptyShards until the first key is added, so that
	// many configured but unused DBs cost nothing.
	shards *[NumSlots]shard
	nkeys  int
	nvol   int
	// expireCursor is the next slot the active expire cycle visits.
	expireCursor int
	watched      map[string][]*client // WATCHed key → clients
}

// keyspace is the whole data set: the DBs plus shared accounting.
type keyspace struct {
	dbs  []*DB
	used int64 // estimated bytes of all entries
	// now is the command's time snapshot in unix ms (set before each
	// command; frozen during EXEC), used for expiry decisions.
	now int64
	// lruClock is now/1000 truncated, stored in entries on access.
	lruClock uint32
	// lfu is set under an LFU maxmemory-policy: accesses then maintain the
	// logarithmic frequency counter of each entry.
	lfu bool
	// dirty counts keyspace changes (rdb_changes_since_last_save).
	dirty int64
	stats *stats
	// onExpire is called for every key reclaimed by expiry (lazy or active),
	// e.g. to propagate a DEL to replicas later.
	onExpire func(db *DB, key string)
	// blk is the blocking state (blocking.go), nil while nobody is blocked.
	blk *blockState
	// snap is the snapshot being written (snapshot.go), nil when none: the
	// mutating primitives below serialize a pending shard before changing
	// it.
	snap *snapshot
	// keepExpired is set on a read-only replica: expired keys are hidden
	// from readers but not reclaimed, the master sends their DELs
	// (repl.go). masterExec is set while the master's stream is applied:
	// expired keys are then live, as they were on the master.
	keepExpired bool
	masterExec  bool
	// ev is the keyspace notification state (notify.go).
	ev notifyState
	// clk turns monotonic readings into wall-clock time for client.call.
	clk cmdClock
}

// monoOrigin is the origin of monoNow.
var monoOrigin = time.Now()

// monoNow reads the monotonic clock: one clock read where time.Now takes
// two (wall and monotonic), which matters at two reads per command.
func monoNow() time.Duration { return time.Since(monoOrigin) }

// cmdClockResync is how often cmdClock re-reads the wall clock, so that a
// step of the system clock is seen within that delay.
const cmdClockResync = 10 * time.Millisecond

// cmdClock converts monoNow readings to unix time. The offset between the
// two clocks is taken from time.Now at most every cmdClockResync of
// monotonic time; in between, the wall time is the monotonic reading plus
// that offset (both clocks advance at the same rate).
type cmdClock struct {
	off    int64         // unix ns minus monotonic reading
	synced time.Duration // monotonic reading of the last resync
	valid  bool
}

// unixNano returns the unix time in ns at monotonic reading m.
func (k *cmdClock) unixNano(m time.Duration) int64 {
	if !k.valid || m-k.synced >= cmdClockResync || m < k.synced {
		t := time.Now()
		k.off = t.UnixNano() - int64(t.Sub(monoOrigin))
		k.synced, k.valid = m, true
	}
	return k.off + int64(m)
}

// emptyShards is the shared, never written, shard array of empty DBs.
var emptyShards [NumSlots]shard

func newKeyspace(n int, st *stats) *keyspace {
	ks := &keyspace{stats: st}
	ks.dbs = make([]*DB, n)
	for i := range ks.dbs {
		ks.dbs[i] = &DB{id: i, ks: ks, shards: &emptyShards}
	}
	return ks
}

// ID returns the DB index.
func (db *DB) ID() int { return db.id }

// Len returns the number of keys (including logically expired ones not yet
// reclaimed).
func (db *DB) Len() int { return db.nkeys }

// Volatile returns the number of keys with an expiry.
func (db *DB) Volatile() int { return db.nvol }

func (db *DB) isExpired(e *Entry) bool {
	return e.expireAt != 0 && e.expireAt <= db.ks.now && !db.ks.masterExec
}

// peek finds a key without expiry handling or LRU update.
func (db *DB) peek(key []byte) *Entry {
	return db.shards[SlotOf(key)].keys[string(key)]
}

// Lookup returns the live entry of key, reclaiming it if it has expired
// (lazy expiry), and updates its LRU clock. It returns nil if the key is
// absent. It is the lookup of writers: the caller may change the value in
// place (then call Modified); readers use LookupRead or LookupNoTouch.
func (db *DB) Lookup(key []byte) *Entry {
	slot := SlotOf(key)
	if db.ks.snap != nil {
		db.ks.snap.cow(db, slot)
	}
	return db.lookupSlot(key, slot)
}

// keyLoc is where a key is stored: its slot and, for a key with a hash
// tag, its tag group (the CRC of the tag). Writers that look a key up and
// then add it compute it once (locate, lookupWrite, addAt).
type keyLoc struct {
	slot   int
	crc    uint32
	tagged bool
}

func locate(key []byte) keyLoc {
	slot, tagged, crc := keyslot.Lookup(key)
	return keyLoc{slot: slot, crc: crc, tagged: tagged}
}

// lookupWrite is Lookup that also returns the key's location.
func (db *DB) lookupWrite(key []byte) (*Entry, keyLoc) {
	loc := locate(key)
	if db.ks.snap != nil {
		db.ks.snap.cow(db, loc.slot)
	}
	sh := &db.shards[loc.slot]
	e := sh.keys[string(key)]
	if e == nil {
		return nil, loc
	}
	if db.isExpired(e) {
		// A writer reclaims an expired key even on a replica (Redis's
		// EXPIRE_FORCE_DELETE_EXPIRED), so that it can be added anew.
		db.expireKey(sh, key, e)
		return nil, loc
	}
	db.touch(e)
	return e, loc
}

func (db *DB) lookupSlot(key []byte, slot int) *Entry {
	sh := &db.shards[slot]
	e := sh.keys[string(key)]
	if e == nil {
		return nil
	}
	if db.isExpired(e) {
		if !db.ks.keepExpired {
			db.expireKey(sh, key, e)
		}
		return nil
	}
	db.touch(e)
	return e
}

// touch records an access to e (LRU clock, LFU counter).
func (db *DB) touch(e *Entry) {
	if db.ks.lfu {
		e.freq = lfuIncr(lfuDecay(e.freq, db.ks.lruClock-e.lru))
	}
	e.lru = db.ks.lruClock
}

// LFU counter, as Redis: starts at 5, grows logarithmically (lfu-log-factor
// 10), decays by one per idle minute (lfu-decay-time 1).
const (
	lfuInitVal   = 5
	lfuLogFactor = 10
)

func lfuDecay(counter uint8, idleSeconds uint32) uint8 {
	periods := idleSeconds / 60
	if periods >= uint32(counter) {
		return 0
	}
	return counter - uint8(periods)
}

func lfuIncr(counter uint8) uint8 {
	if counter == 255 {
		return 255
	}
	base := float64(int(counter) - lfuInitVal)
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1.0/(base*lfuLogFactor+1) {
		counter++
	}
	return counter
}

// LookupNoTouch is Lookup without the LRU/LFU update (EXISTS, TYPE, TTL,
// OBJECT: Redis's LOOKUP_NOTOUCH).
func (db *DB) LookupNoTouch(key []byte) *Entry {
	sh := &db.shards[SlotOf(key)]
	e := sh.keys[string(key)]
	if e == nil {
		return nil
	}
	if db.isExpired(e) {
		if !db.ks.keepExpired {
			db.expireKey(sh, key, e)
		}
		return nil
	}
	return e
}

// LookupRead is Lookup that also counts keyspace hits and misses.
func (db *DB) LookupRead(key []byte) *Entry {
	e := db.lookupSlot(key, SlotOf(key))
	if e == nil {
		db.ks.stats.misses++
		db.notify(notifyKeyMiss, "keymiss", key)
	} else {
		db.ks.stats.hits++
	}
	return e
}

func (db *DB) expireKey(sh *shard, key []byte, e *Entry) {
	k := db.remove(sh, key, e)
	db.ks.stats.expiredKeys++
	db.signal(key, true)
	db.notify(notifyExpired, "expired", key)
	if db.ks.onExpire != nil {
		db.ks.onExpire(db, k)
	}
}

// Add stores a new key, which must not exist (check with Lookup first).
// The entry is owned by the DB afterwards.
func (db *DB) Add(key []byte, e *Entry) { db.addAt(key, string(key), locate(key), e) }

// addAt is Add with the key's location and the string to store as the key
// (equal to key; newStringEntryKeyed allocates it with the entry).
func (db *DB) addAt(key []byte, k string, loc keyLoc, e *Entry) {
	db.insertAt(k, loc, e)
	db.signal(key, false)
	db.added(key, e)
}

// addUnwatched is Add for a key created by a command that then changes
// nothing (BITFIELD whose operations all fail or rewrite the same bits):
// Redis creates such a key without touching WATCHed keys. The write still
// counts as a change, so replicas and the AOF get the key too.
func (db *DB) addUnwatched(key []byte, e *Entry) {
	db.insertAt(string(key), locate(key), e)
	db.ks.dirty++
	db.added(key, e)
}

// added announces a new key: keyspace notification, blocked clients.
func (db *DB) added(key []byte, e *Entry) {
	db.notify(notifyNew, "new", key)
	if db.ks.blk != nil && (e.typ == TypeList || e.typ == TypeZSet) {
		db.signalKeyReady(key)
	}
}

// insertAt stores e under k (not present) and accounts for it.
func (db *DB) insertAt(k string, loc keyLoc, e *Entry) {
	slot, tagged, crc := loc.slot, loc.tagged, loc.crc
	if db.ks.snap != nil {
		db.ks.snap.cow(db, slot)
	}
	if db.shards == &emptyShards {
		db.shards = new([NumSlots]shard)
	}
	sh := &db.shards[slot]
	if sh.keys == nil {
		sh.keys = make(map[string]*Entry)
	}
	sh.keys[k] = e
	db.nkeys++
	if tagged {
		if sh.tags == nil {
			sh.tags = make(map[uint32]map[string]struct{})
		}
		g := sh.tags[crc]
		if g == nil {
			g = make(map[string]struct{})
			sh.tags[crc] = g
		}
		g[k] = struct{}{}
	}
	if e.expireAt != 0 {
		if sh.volatile == nil {
			sh.volatile = make(map[string]*Entry)
		}
		sh.volatile[k] = e
		db.nvol++
	}
	e.lru = db.ks.lruClock
	e.freq = lfuInitVal
	e.mem = entrySize(k, e)
	db.ks.used += e.mem
}

// Set stores e under key, replacing any existing value (SET semantics). The
// old expiry is kept when keepTTL is set, else cleared (e's own expireAt is
// used). It reports whether the key existed.
func (db *DB) Set(key []byte, e *Entry, keepTTL bool) bool {
	loc := locate(key)
	if db.ks.snap != nil {
		db.ks.snap.cow(db, loc.slot)
	}
	sh := &db.shards[loc.slot]
	old := sh.keys[string(key)]
	if old != nil && db.isExpired(old) {
		db.expireKey(sh, key, old)
		old = nil
	}
	if old == nil {
		if keepTTL {
			e.expireAt = 0
		}
		db.addAt(key, string(key), loc, e)
		return false
	}
	// Overwrite in place so the map entry, slot set and tag index stay.
	exp := e.expireAt
	if keepTTL {
		exp = old.expireAt
	}
	old.setValue(e)
	db.setExpireEntry(sh, key, old, exp)
	db.Modified(key, old)
	if db.ks.blk != nil && (old.typ == TypeList || old.typ == TypeZSet) {
		db.signalKeyReady(key)
	}
	return true
}

// Modified must be called after a value was changed in place: it updates
// memory accounting and invalidates WATCHes.
func (db *DB) Modified(key []byte, e *Entry) {
	db.resized(key, e)
	db.signal(key, false)
}

// modifiedUnwatched is Modified for a value that grew without a logical
// change (BITFIELD padding a string for operations that all failed):
// memory is accounted and the write propagated, but WATCHes stay valid,
// as in Redis.
func (db *DB) modifiedUnwatched(key []byte, e *Entry) {
	db.resized(key, e)
	db.ks.dirty++
}

// resized re-accounts e's memory after an in-place change.
func (db *DB) resized(key []byte, e *Entry) {
	if db.ks.snap != nil {
		db.cowLate(key)
	}
	n := entrySize(string(key), e)
	db.ks.used += n - e.mem
	e.mem = n
	e.lru = db.ks.lruClock
}

// Delete removes key if it exists (expired keys count as absent) and reports
// whether a live key was removed.
func (db *DB) Delete(key []byte) bool {
	sh := &db.shards[SlotOf(key)]
	e := sh.keys[string(key)]
	if e == nil {
		return false
	}
	if db.isExpired(e) {
		db.expireKey(sh, key, e)
		return false
	}
	db.remove(sh, key, e)
	db.signal(key, false)
	return true
}

// remove unlinks a present key from every structure and returns the stored
// key string.
func (db *DB) remove(sh *shard, key []byte, e *Entry) string {
	slot, tagged, crc := keyslot.Lookup(key)
	if db.ks.snap != nil {
		db.ks.snap.cow(db, slot)
	}
	k := string(key)
	delete(sh.keys, k)
	db.nkeys--
	if e.expireAt != 0 {
		delete(sh.volatile, k)
		db.nvol--
	}
	if tagged {
		if g := sh.tags[crc]; g != nil {
			delete(g, k)
			if len(g) == 0 {
				delete(sh.tags, crc)
			}
		}
	}
	db.ks.used -= e.mem
	return k
}

// SetExpire sets (at > 0) or clears (at == 0) the absolute expiry, in unix
// ms, of a key that exists.
func (db *DB) SetExpire(key []byte, e *Entry, at int64) {
	db.setExpireEntry(&db.shards[SlotOf(key)], key, e, at)
	db.Modified(key, e)
}

func (db *DB) setExpireEntry(sh *shard, key []byte, e *Entry, at int64) {
	if db.ks.snap != nil {
		db.ks.snap.cow(db, SlotOf(key))
	}
	switch {
	case e.expireAt == 0 && at != 0:
		if sh.volatile == nil {
			sh.volatile = make(map[string]*Entry)
		}
		sh.volatile[string(key)] = e
		db.nvol++
	case e.expireAt != 0 && at == 0:
		delete(sh.volatile, string(key))
		db.nvol--
	}
	e.expireAt = at
}

// flush removes every key and returns how many there were.
func (db *DB) flush() int {
	n := db.nkeys
	for i := range db.shards {
		for _, e := range db.shards[i].keys {
			db.ks.used -= e.mem
		}
	}
	db.shards = &emptyShards
	db.nkeys, db.nvol = 0, 0
	db.signalAll()
	return n
}

// keysOfSlot returns the number of keys in a slot.
func (db *DB) keysOfSlot(slot int) int { return len(db.shards[slot].keys) }

// tagKeys returns the keys of the tag group of key (keys whose tag has the
// same CRC), sorted, and whether key has a tag.
func (db *DB) tagKeys(key []byte) ([]string, bool) {
	slot, tagged, crc := keyslot.Lookup(key)
	if !tagged {
		return nil, false
	}
	g := db.shards[slot].tags[crc]
	out := make([]string, 0, len(g))
	for k := range g {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, true
}

// randomKey returns a random key name (possibly logically expired), or "".
func (db *DB) randomKey() (string, bool) {
	if db.nkeys == 0 {
		return "", false
	}
	r := rand.IntN(db.nkeys)
	for i := range db.shards {
		n := len(db.shards[i].keys)
		if r >= n {
			r -= n
			continue
		}
		for k := range db.shards[i].keys {
			if r == 0 {
				return k, true
			}
			r--
		}
	}
	return "", false
}

// moveAll swaps the content of two DBs (SWAPDB). Watchers stay with their
// DB index and are signalled.
func (db *DB) swapWith(o *DB) {
	db.shards, o.shards = o.shards, db.shards
	db.nkeys, o.nkeys = o.nkeys, db.nkeys
	db.nvol, o.nvol = o.nvol, db.nvol
	db.signalAll()
	o.signalAll()
	db.signalBlockedKeys()
	o.signalBlockedKeys()
}
