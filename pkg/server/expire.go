package server

import (
	"math/rand/v2"
	"time"
)

// Active expiry, in the spirit of Redis's activeExpireCycle: every cron tick
// each DB is visited from a rotating slot cursor; in each shard with
// volatile keys up to 20 of them are sampled (Go's randomized map iteration
// order makes the sample random) and the expired ones reclaimed. A shard is
// sampled again while more than 10% of its sample was expired. The whole
// cycle stops when its time budget is used up, so it never causes a long
// pause; the cursor makes the next cycle continue where this one stopped.

const (
	expireSample      = 20
	expireRepeatRatio = 10 // percent
)

// activeExpireCycle runs with Server.mu held.
func (s *Server) activeExpireCycle(budget time.Duration) {
	start := time.Now()
	ks := s.ks
	if ks.keepExpired {
		return // a replica waits for its master's DELs
	}
	for _, db := range ks.dbs {
		if db.nvol == 0 {
			continue
		}
		for n := 0; n < NumSlots; n++ {
			slot := db.expireCursor
			db.expireCursor = (db.expireCursor + 1) % NumSlots
			sh := &db.shards[slot]
			for len(sh.volatile) > 0 {
				sampled, expired := 0, 0
				var victims [expireSample]string
				for k, e := range sh.volatile {
					if sampled == expireSample {
						break
					}
					sampled++
					if e.expireAt <= ks.now {
						victims[expired] = k
						expired++
					}
				}
				for _, k := range victims[:expired] {
					key := []byte(k)
					if e := sh.keys[k]; e != nil {
						db.expireKey(sh, key, e)
					}
				}
				if expired*100 <= sampled*expireRepeatRatio {
					break
				}
			}
			if n&15 == 15 && time.Since(start) > budget {
				return
			}
			if db.nvol == 0 {
				break
			}
		}
	}
}

// evict frees memory according to maxmemory-policy until used memory is
// under maxmemory. It reports false if it could not (noeviction, or no
// candidate keys). Server.mu held.
func (s *Server) evict() bool {
	maxmem := s.cfg.MaxMemory
	if maxmem <= 0 || s.usedMemory() <= maxmem {
		return true
	}
	if s.repl != nil && s.repl.link != nil {
		return true // a replica ignores maxmemory (replica-ignore-maxmemory yes)
	}
	if s.clientsPaused() {
		return true // CLIENT PAUSE (WRITE or ALL) holds eviction back too
	}
	policy := s.cfg.MaxMemoryPolicy
	if policy == "noeviction" {
		return false
	}
	volatile := policy[:8] == "volatile"
	samples := int(s.cfg.MaxMemorySample)
	for tries := 0; s.usedMemory() > maxmem; tries++ {
		if tries > 1<<20 {
			return false
		}
		var bestDB *DB
		var bestKey string
		var bestScore int64 = -1
		for _, db := range s.ks.dbs {
			if db.nkeys == 0 || (volatile && db.nvol == 0) {
				continue
			}
			for i := 0; i < samples; i++ {
				k, e, ok := db.sampleKey(volatile)
				if !ok {
					break
				}
				var score int64
				switch policy {
				case "allkeys-lru", "volatile-lru":
					score = int64(s.ks.lruClock - e.lru) // idle time
				case "allkeys-lfu", "volatile-lfu":
					score = 255 - int64(lfuDecay(e.freq, s.ks.lruClock-e.lru)) // least frequent
				case "volatile-ttl":
					score = -e.expireAt // sooner expiry = better victim
					if score == 0 {
						continue
					}
				default: // random
					score = rand.Int64N(1 << 30)
				}
				if score > bestScore || bestScore == -1 {
					bestDB, bestKey, bestScore = db, k, score
				}
			}
		}
		if bestDB == nil {
			return false
		}
		if bestDB.Delete([]byte(bestKey)) {
			s.st.evictedKeys++
			s.propagateEvicted(bestDB, bestKey)
			bestDB.notifyKeyString(notifyEvicted, "evicted", bestKey)
		}
	}
	return true
}

// sampleKey returns a random key of the DB (of its volatile keys if asked).
func (db *DB) sampleKey(volatile bool) (string, *Entry, bool) {
	for tries := 0; tries < NumSlots; tries++ {
		sh := &db.shards[rand.IntN(NumSlots)]
		m := sh.keys
		if volatile {
			m = sh.volatile
		}
		for k, e := range m {
			return k, e, true
		}
	}
	// Sparse DB: scan from a random slot.
	startSlot := rand.IntN(NumSlots)
	for i := 0; i < NumSlots; i++ {
		sh := &db.shards[(startSlot+i)%NumSlots]
		m := sh.keys
		if volatile {
			m = sh.volatile
		}
		for k, e := range m {
			return k, e, true
		}
	}
	return "", nil, false
}

// usedMemory is the used_memory estimate: entry accounting plus a fixed
// baseline for the server itself.
func (s *Server) usedMemory() int64 {
	return s.ks.used + baseMemory
}

const baseMemory = 1 << 20
