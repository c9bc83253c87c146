package server

// watchedKey is one WATCHed key of a client.
type watchedKey struct {
	db      *DB
	key     string
	expired bool // the key was logically expired when WATCHed
}

// signal invalidates the WATCHes on key (called by every keyspace change).
// fromExpiry is set when the key is reclaimed because it expired.
func (db *DB) signal(key []byte, fromExpiry bool) {
	db.ks.dirty++
	if len(db.watched) == 0 {
		return
	}
	cs := db.watched[string(key)]
	for _, c := range cs {
		for i := range c.watched {
			wk := &c.watched[i]
			if wk.db != db || wk.key != string(key) {
				continue
			}
			if wk.expired && fromExpiry {
				// Already expired when watched: its reclamation is not a
				// logical change.
				wk.expired = false
				continue
			}
			c.dirtyCAS = true
		}
	}
}

// signalAll invalidates every WATCH on this DB (FLUSHDB, SWAPDB, ...).
func (db *DB) signalAll() {
	db.ks.dirty++
	for _, cs := range db.watched {
		for _, c := range cs {
			c.dirtyCAS = true
		}
	}
}

func (c *client) watch(key []byte) {
	db := c.db
	for _, wk := range c.watched {
		if wk.db == db && wk.key == string(key) {
			return
		}
	}
	k := string(key)
	e := db.peek(key)
	expired := e != nil && db.isExpired(e)
	c.watched = append(c.watched, watchedKey{db: db, key: k, expired: expired})
	if db.watched == nil {
		db.watched = make(map[string][]*client)
	}
	db.watched[k] = append(db.watched[k], c)
}

func (c *client) unwatchAll() {
	for _, wk := range c.watched {
		cs := wk.db.watched[wk.key]
		for i, o := range cs {
			if o == c {
				cs = append(cs[:i], cs[i+1:]...)
				break
			}
		}
		if len(cs) == 0 {
			delete(wk.db.watched, wk.key)
		} else {
			wk.db.watched[wk.key] = cs
		}
	}
	c.watched = c.watched[:0]
	c.dirtyCAS = false
}

// watchedKeyExpired reports whether a watched key that was live at WATCH
// time has expired since (Redis 7.0 aborts EXEC then).
func (c *client) watchedKeyExpired() bool {
	for _, wk := range c.watched {
		if wk.expired {
			continue
		}
		if e := wk.db.peek([]byte(wk.key)); e != nil && wk.db.isExpired(e) {
			return true
		}
	}
	return false
}

func (c *client) discardTransaction() {
	c.inMulti, c.multiErr = false, false
	c.queue = nil
	c.unwatchAll()
}

func init() {
	register(
		&Command{Name: "multi", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl, Proc: multiCommand},
		&Command{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagTxControl, Proc: execCommand},
		&Command{Name: "discard", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl, Proc: discardCommand},
		&Command{Name: "watch", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl, FirstKey: 1, LastKey: -1, Step: 1, Proc: watchCommand},
		&Command{Name: "unwatch", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Proc: unwatchCommand},
	)
}

func multiCommand(c *client, argv [][]byte) {
	if c.inMulti {
		c.addError("ERR MULTI calls can not be nested")
		return
	}
	c.inMulti, c.multiErr = true, false
	c.addOK()
}

func discardCommand(c *client, argv [][]byte) {
	if !c.inMulti {
		c.addError("ERR DISCARD without MULTI")
		return
	}
	c.discardTransaction()
	c.addOK()
}

func execCommand(c *client, argv [][]byte) {
	if !c.inMulti {
		c.addError("ERR EXEC without MULTI")
		return
	}
	if c.multiErr {
		c.discardTransaction()
		c.addError("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	if c.watchedKeyExpired() {
		c.dirtyCAS = true
	}
	if c.dirtyCAS {
		c.discardTransaction()
		c.addNullArray()
		return
	}
	queue := c.queue
	c.inMulti = false
	c.queue = nil
	c.unwatchAll()
	c.addArrayLen(len(queue))
	c.inExec = true
	c.s.ks.now = c.s.nowFunc().UnixMilli()
	for _, argv := range queue {
		cmd := lookupCommand(argv[0])
		if cmd.Flags&FlagWrite != 0 && c.s.cfg.ReplicaOfHost != "" && c.s.cfg.ReplicaReadOnly {
			c.addError(errReadOnly)
			continue
		}
		c.call(cmd, argv)
	}
	c.inExec = false
}

func watchCommand(c *client, argv [][]byte) {
	if c.inMulti {
		c.addError("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range argv[1:] {
		c.watch(k)
	}
	c.addOK()
}

func unwatchCommand(c *client, argv [][]byte) {
	c.unwatchAll()
	c.addOK()
}
