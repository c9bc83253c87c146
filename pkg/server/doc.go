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
// An Entry holds its value as one pointer (a string's bytes with a 32-bit
// length and capacity, or the *listObj, *hashObj, *setObject or
// *zsetObject its type names; see object.go), 40 bytes in all: read it
// with Str, Obj or the typed accessors, set it with SetStr or setObj.
// A new object type needs a case in Obj and setObj.
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
// The semi-async family (SLOTSMGRT*-ASYNC, t_mgrt_async.go; target side in
// mgrt_async_restore.go) never holds Server.mu across network I/O: a link
// per DB is a client of the source whose target replies are
// SLOTSRESTORE-ASYNC-ACK commands, messages go out through its push
// writer, and callers get their reply later through theirs.
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
// MONITOR (monitor.go) uses the same push writer: client.call formats one
// line per executed command (Redis 7.0's rules on what is shown and what
// is redacted) and appends it to every monitor's buffer; with no monitor
// the cost is one length check per command.
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
// set and exceeded, every command first evicts by sampling
// (maxmemory-samples) according to the policy (allkeys/volatile-lru
// approximate LRU via a seconds clock, -lfu a logarithmic access counter
// that decays with idle time, -random, volatile-ttl), as Redis does, so a
// lowered maxmemory takes effect at the next command; commands that may
// grow memory fail with OOM when nothing can be evicted (noeviction). The
// cron evicts too, and neither does while clients are paused. used_memory is an estimate kept by
// accounting every entry (key, value, per-key overhead) plus a baseline.
//
// # Persistence
//
// RDB files (persist.go) are written with pkg/rdb: version 7 with the
// classic encodings, which Redis 3.2 to 7.x load, and read in every
// version up to 11 (Redis 7.0 writes 10, listpacks included). At start-up
// dir/dbfilename is loaded before the listeners open; keys already
// expired are skipped on a master and a corrupt file stops the start with
// the offset and what failed (ErrLoad). SAVE, SHUTDOWN and FLUSHALL (with
// save rules) write synchronously under Server.mu; every save goes to a
// temp file in dir that is fsynced and renamed over the dump file.
//
// BGSAVE cannot fork, so it writes a point-in-time snapshot with
// slot-granular copy-on-write (snapshot.go): beginSnapshot, under
// Server.mu, marks every (db, slot) shard holding keys as pending; a
// goroutine serializes pending shards in short batches under Server.mu and
// writes the bytes out without it; any mutation of a pending shard first
// serializes that shard in the mutating goroutine (hooks in client.call
// for the keys of write commands and in the DB primitives Lookup, Add,
// Set, remove, setExpireEntry). FLUSHDB, FLUSHALL and SWAPDB detach or
// exchange whole shard arrays, so pending shards are tracked by array and
// need no copying. A client therefore waits at most for the serialization
// of the shards its command touches. The snapshot's output is any
// io.Writer, so the same mechanism serves replication full syncs; one
// snapshot runs at a time. Save rules are checked by the cron.
//
// The AOF (aof.go, aof_rewrite.go) uses Redis 7.0's multi-part layout: a
// manifest in appenddirname listing one base file (RDB, or commands) and
// incr files of commands. It is a feed of the propagation stream
// (propagate.go), so it holds exactly what replicas receive. Commands are
// buffered under Server.mu; at the end of a client's batch the buffer is
// written, and with appendfsync always fsynced, before the batch's replies
// are sent (clients waiting at the same moment share one fsync).
// BGREWRITEAOF opens the next incr file at the point of a snapshot that
// writes the new base, then switches the manifest atomically.
//
// # Scripting
//
// EVAL and friends (t_script.go, script_*.go) run Lua 5.1 scripts with
// gopher-lua, in one interpreter per server created on first use and
// reused by every script (SCRIPT FLUSH starts a fresh one). Scripts are
// compiled once and cached by SHA1; KEYS and ARGV are new tables each
// call. The sandbox is Redis 7.0's: base library minus files, modules,
// print and fenv, plus string, table, math (its deterministic
// math.random), coroutine, bit, cjson and redis. Globals and library
// tables are read-only proxies (writes raise "Attempt to modify a
// readonly table", reading a missing global raises "Script attempted to
// access nonexistent global variable"); the raw-access functions see
// through proxies for reads and refuse writes, so no script can leave
// state behind for the next one.
//
// redis.call and redis.pcall run nested commands through client.call as
// a per-server script client (conn nil, inExec set so that the clock
// stays the script's and blocked clients are served after the EVAL as a
// whole) sharing the caller's DB; their replies are parsed back from the
// client's RESP buffer into Lua values. Every nested command therefore
// passes the same hooks in call as a client's (propagation, snapshot
// copy-on-write, stats).
//
// A script runs from the EVAL handler, so with Server.mu held: nothing
// else runs meanwhile. gopher-lua calls the Done method of the context set
// on the interpreter before every VM instruction; our context (scriptHook)
// counts instructions and every 1024 checks the time. Past
// busy-reply-threshold (lua-time-limit) the server enters BUSY mode
// (Server.script.busy, read by process() under Server.mu) and the
// script, every 20 ms, releases Server.mu, yields and takes it back. Clients that were waiting for the lock then run their
// batches; process() refuses everything with BUSY except Redis's
// allow-busy commands (AUTH, HELLO, QUIT, RESET, MULTI, DISCARD, WATCH,
// UNWATCH, SCRIPT KILL, SHUTDOWN NOSAVE), and it does so before any
// eviction, so no client changes the keyspace while the script is paused.
// SCRIPT KILL marks the run killed unless it wrote (UNKILLABLE); from
// then on Done returns a closed channel, so the VM raises at every
// instruction and pcall cannot swallow it. Coroutines get the same
// context. Close kills a looping script too. Code that takes Server.mu
// outside process() while a script may be paused (the cron, blocked
// clients' polls, a replica's master link) must leave the keyspace alone
// when scriptPaused() is true.
//
// Known differences from Redis 7.0 (gopher-lua is not PUC Lua 5.1):
// compile and runtime errors keep Redis's frame ("user_script:N:") and
// reply format but gopher-lua's wording ("syntax error", "unterminated
// string", "cannot perform add operation ..."); # of a table with holes
// may pick another border; number-to-string conversion by concatenation
// uses Go's format (tostring, redis.* arguments and cjson use Lua's
// %.14g); string.dump and the main chunk's compatibility "arg" table are
// absent; getmetatable(_G) is an empty read-only table; cjson's
// configuration functions (encode_max_depth, encode_sparse_array, ...,
// new) are absent and its decode errors are worded differently;
// redis.setresp(3) and SCRIPT DEBUG YES/SYNC are refused; source nesting
// deeper than 200 levels is refused before parsing ("chunk has too many
// syntax levels").
//
// # Replication
//
// propagate.go turns executed commands into the replication stream: after
// each top-level command that changed the keyspace (dirty delta, minus
// keys reclaimed by expiry meanwhile) the hook in client.call appends its
// RESP form, with SELECT when the DB changes, rewritten into its effect
// where Redis 7.0 does so (PXAT/PEXPIREAT forms, INCRBYFLOAT as SET
// KEEPTTL, SPOP as SREM, blocking pops as pops, RESTORE/SLOTSRESTORE with
// ABSTTL); handlers override it with c.propagateInstead/alsoPropagate.
// Expired and evicted keys become DELs, migrated keys too. Nested calls
// (EXEC, scripts) propagate their effects, in MULTI/EXEC when several.
// The stream goes to the circular backlog (repl-backlog-size), to every
// replica's output buffer and to feeds registered with addStreamFeed
// (the AOF), all under Server.mu and in execution order.
//
// Master side (repl_master.go): REPLCONF, then PSYNC: +CONTINUE from the
// backlog when the replica's replid/offset (or the previous replid up to
// second_repl_offset, PSYNC2) is still covered, else +FULLRESYNC with a
// point-in-time snapshot (snapshot.go) streamed diskless ($EOF:<mark>,
// capa eof) or through a temp file ($<len>). The stream written after the
// snapshot point is buffered for that replica and sent after the RDB (for
// diskless, after the replica's first ACK, as Redis does). A writer
// goroutine per replica owns its socket; the replica's client goroutine
// keeps reading REPLCONF ACKs. client-output-buffer-limit replica applies.
//
// Replica side (repl_replica.go): a link goroutine connects, runs the
// handshake (PING, AUTH masterauth, REPLCONF listening-port and capa,
// PSYNC with the cached replid/offset), loads a full RDB into a private
// keyspace without the lock and swaps it in, then applies the stream with
// a master client through client.call, counting offsets per processed
// byte and proxying the exact bytes to its own backlog and replicas
// (chained replication keeps the master's replid and offsets). A
// read-only replica never reclaims expired keys itself (it hides them and
// waits for the master's DELs) and ignores maxmemory. REPLICAOF NO ONE
// keeps the old replid as replid2 so the other replicas resynchronize
// partially with the promoted one.
//
// # Lock order
//
// Server.mu before Server.clientsMu, and Server.mu before a client's
// pushWriter.mu. Nothing takes Server.mu while holding either.
package server
