// Package server is codis-server: a Redis-7.0-compatible data server with
// the Codis slot extensions (SPEC-data §B, §C).
//
// # Keyspace
//
// Each logical DB is split into 1024 shards, one per codis slot
// (slot = crc32(hash tag or key) & 1023, SPEC-data §A). A shard holds the
// key map (which doubles as the slot set of §B.1), a map of the keys that
// have an expiry (sampled by the active expire cycle), and the tag index:
// tagged keys grouped by the CRC of their tag. SLOTSINFO, SLOTSSCAN,
// SLOTSDEL and migration therefore touch one shard only.
//
// Type files (t_string.go, t_keys.go, and later t_list.go, t_hash.go, ...)
// register their commands from init with register(&Command{...}) and use
// the DB API, always with Server.mu held (handlers run under it):
//
//   - c.lookupTyped(key, TypeList, read) / DB.Lookup, LookupRead,
//     LookupNoTouch: live entry or nil (expired keys are reclaimed here);
//   - DB.Add(key, NewObjectEntry(obj)) for a new key;
//   - DB.Set(key, entry, keepTTL) to overwrite with SET semantics;
//   - mutate the value in place, then DB.Modified(key, e) (memory
//     accounting, LRU, WATCH invalidation, dirty counter);
//   - DB.Delete(key) (e.g. when an aggregate becomes empty);
//   - DB.SetExpire(key, e, unixMillis or 0).
//
// Non-string values implement Object (Type, Encoding, MemSize, Copy).
// To be dumped, restored and migrated they also implement rdbValue
// (rdbObject() rdb.Object, the neutral form of pkg/rdb) and register a
// constructor from rdb.Object with registerRDBDecoder(rdb.KindX, fn) in
// their init (rdbconv.go). DUMP and migration emit version-7 payloads with
// the classic types (DESIGN decision 3); RESTORE and SLOTSRESTORE accept
// versions up to 10 (Redis 7.0).
// Replies are written with c.addInt, c.addBulk, c.addArrayLen, c.addError
// (full text with its code: "ERR ...", errWrongType, ...) and friends.
//
// # Concurrency
//
// One goroutine per connection reads, parses (zero-copy, pkg/resp) and
// executes requests; replies are buffered and written once the read buffer
// holds no complete request, so pipelines cost one write. Commands execute
// under Server.mu, the keyspace lock, taken once per batch of pipelined
// requests rather than once per command. We chose this single-writer model
// over per-shard locks after considering the 2-core target machine: lock
// hand-offs are amortised over a batch, every command (and MULTI/EXEC,
// WATCH, FLUSHALL, RENAME across slots) is trivially atomic, and the
// replication log can later be appended in execution order. Parsing and
// socket I/O, the expensive parts, run outside the lock and in parallel.
//
// # Slot migration
//
// SLOTSMGRTONE/TAGONE/SLOT/TAGSLOT (t_migrate.go) talk to the target while
// holding Server.mu, as Redis does: the keys cannot change between DUMP and
// the local delete. Each network step is bounded by the command's timeout.
// Target connections are cached per "host:port" and closed by the cron
// after 15 s idle.
//
// # Pub/sub
//
// Subscriptions are guarded by Server.mu. A client's first subscription
// gives it a writer goroutine (pubsub.go): from then on its replies are
// moved, at the end of each batch and still under Server.mu, into a
// mutex-protected push buffer, where PUBLISH also appends messages, so
// order is preserved and a publisher never blocks on a slow subscriber.
// The pubsub output limit (32mb hard, 8mb for 60 s) disconnects laggards.
//
// # Blocking commands
//
// BLPOP & co. and BZPOPMIN/BZPOPMAX/BZMPOP (blocking.go) park the client's
// goroutine outside the lock with a waiter queued per key (one FIFO for
// list and zset waiters). DB.Add and DB.Set of a list or sorted set mark a
// key with waiters ready; client.call serves ready keys right after each
// command (after EXEC as a whole), so the waiters get the elements before
// any other client runs, as in Redis. Blocked time is left out of the
// command stats and the slow log.
//
// # Expiry and eviction
//
// Expired keys are reclaimed lazily on access and by an active cycle that
// runs hz times a second with a time budget of a quarter tick, sampling
// 20 volatile keys per shard from a rotating slot cursor. With maxmemory
// set, writes first evict by sampling (maxmemory-samples) according to the
// policy (allkeys/volatile-lru approximate LRU via a seconds clock,
// -random, volatile-ttl; the LFU policies use the same LRU approximation),
// or fail with OOM under noeviction. used_memory is an estimate kept by
// accounting every entry (key, value, per-key overhead) plus a baseline.
//
// # Lock order
//
// Server.mu before Server.clientsMu, and Server.mu before a client's
// pushWriter.mu. Nothing takes Server.mu while holding either.
package server
