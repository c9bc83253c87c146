package server

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// DEBUG: the subset of Redis 7.0's DEBUG that tests and tools use. Like
// Redis it is an admin command refused in scripts; unlike Redis 7.0 it is
// not gated by enable-debug-command.

func init() {
	register(&Command{Name: "debug", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Proc: debugCommand})
}

var debugHelp = []string{
	"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas.",
	"RELOAD [option ...]",
	"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
	"    * MERGE: conflicting keys will be loaded from RDB.",
	"    * NOFLUSH: the existing database will not be removed before load, but",
	"      conflicting keys will generate an exception and kill the server.",
	"    * NOSAVE: the database will be loaded from an existing RDB file.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"HELP",
	"    Prints this help.",
}

func debugCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	n := len(argv)
	switch {
	case sub == "help" && n == 2:
		c.addHelp(debugHelp)
	case sub == "object" && n == 3:
		e := c.db.LookupNoTouch(argv[2])
		if e == nil {
			c.addError(errNoSuchKey)
			return
		}
		c.addSimple(s.debugObject(e))
	case sub == "sleep" && n == 3:
		f, err := strconv.ParseFloat(string(argv[2]), 64)
		if err != nil || math.IsNaN(f) {
			f = 0 // Redis uses strtod and ignores errors
		}
		if f > 0 {
			time.Sleep(time.Duration(f * float64(time.Second)))
		}
		c.addOK()
	case sub == "reload":
		c.debugReload(argv[2:])
	case sub == "set-active-expire" && n == 3:
		s.cfg.ActiveExpire = atoi(argv[2]) != 0
		c.addOK()
	case sub == "change-repl-id" && n == 2:
		r := s.replState()
		r.replid, r.replid2, r.secondOffset = newReplID(), nullReplID, -1
		s.log.Info("changed replication IDs after receiving DEBUG change-repl-id")
		c.addOK()
	case sub == "digest" && n == 2:
		d := s.datasetDigest()
		c.addSimple(hex.EncodeToString(d[:]))
	case sub == "digest-value" && n >= 2:
		c.addArrayLen(n - 2)
		for _, k := range argv[2:] {
			var d [20]byte
			if e := c.db.LookupNoTouch(k); e != nil {
				objectDigest(&d, e)
			}
			c.addSimple(hex.EncodeToString(d[:]))
		}
	case sub == "populate" && n >= 3 && n <= 5:
		c.debugPopulate(argv)
	case sub == "error" && n == 3:
		// Not an error of the server: left out of the error stats, as
		// Redis does.
		c.out = resp.AppendError(c.out, string(argv[2]))
	case sub == "log" && n == 3:
		s.log.Warn("DEBUG LOG: " + string(argv[2]))
		c.addOK()
	default:
		unknownSubcommand(c, argv)
	}
}

// debugObject formats DEBUG OBJECT's status line.
func (s *Server) debugObject(e *Entry) string {
	refcount := 1
	if e.typ == TypeString && e.enc == encInt {
		if v, ok := parseInt64(e.Str()); ok && v >= 0 && v < 10000 && !strings.HasSuffix(s.cfg.MaxMemoryPolicy, "lru") &&
			!strings.HasSuffix(s.cfg.MaxMemoryPolicy, "lfu") {
			refcount = sharedRefcount
		}
	}
	serLen := 0
	if b, err := dumpEntry(e); err == nil && len(b) >= 11 {
		serLen = len(b) - 11 // type byte, version and CRC
	}
	extra := ""
	if l := e.list(); l != nil {
		nodes := max(len(l.nodes), 1)
		size := int64(0)
		for _, nd := range l.nodes {
			size += int64(nd.size())
		}
		extra = fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%s ql_compressed:%d ql_uncompressed_size:%d",
			len(l.nodes), float64(l.count)/float64(nodes), s.configGet("list-max-listpack-size"),
			b2i(s.configGet("list-compress-depth") != "0"), size)
	}
	idle := int64(s.ks.lruClock - e.lru)
	return fmt.Sprintf("Value at:%p refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s",
		e, refcount, e.encodingName(), serLen, e.lru&(1<<24-1), idle, extra)
}

// debugReload saves the data set and loads it back (DEBUG RELOAD).
func (c *client) debugReload(opts [][]byte) {
	s := c.s
	save, flush, merge := true, true, false
	for _, o := range opts {
		switch strings.ToLower(string(o)) {
		case "merge":
			merge = true
		case "nosave":
			save = false
		case "noflush":
			flush = false
		default:
			c.addError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if save {
		if err := s.rdbSaveSync(); err != nil {
			c.addError("ERR Error trying to save the DB: " + err.Error())
			return
		}
	}
	dirty := s.ks.dirty
	if flush {
		s.abortBgsave()
		for _, db := range s.ks.dbs {
			db.flush()
		}
	}
	f, err := os.Open(s.rdbPath())
	if err != nil {
		c.addError("ERR Error trying to load the RDB dump, check server logs.")
		s.log.Warn("DEBUG RELOAD: open", "err", err)
		return
	}
	defer f.Close()
	if merge {
		// Conflicting keys are replaced by the file's: drop them first.
		rd := rdb.NewReader(f)
		err = rd.Run(rdb.Handlers{Key: func(e *rdb.Entry) error {
			if e.DB < len(s.ks.dbs) {
				s.ks.dbs[e.DB].Delete(e.Key)
			}
			return nil
		}})
		if err == nil {
			_, err = f.Seek(0, 0)
		}
	}
	if err == nil {
		_, err = s.loadRDB(f)
	}
	s.ks.dirty = dirty
	if err != nil {
		s.log.Warn("DEBUG RELOAD: load", "err", err)
		c.addError("ERR Error trying to load the RDB dump, check server logs.")
		return
	}
	s.log.Info("DB reloaded by DEBUG RELOAD")
	c.addOK()
}

// debugPopulate creates count string keys prefix:N with value value:N
// (padded or cut to size when given), skipping existing keys.
func (c *client) debugPopulate(argv [][]byte) {
	count, ok := parseInt64(argv[2])
	if !ok || count < 0 {
		c.addError("ERR value is out of range, must be positive")
		return
	}
	prefix := "key"
	if len(argv) > 3 {
		prefix = string(argv[3])
	}
	size := int64(-1)
	if len(argv) > 4 {
		v, ok := parseInt64(argv[4])
		if !ok {
			c.addError(errNotInt)
			return
		}
		size = v
	}
	for i := int64(0); i < count; i++ {
		key := []byte(prefix + ":" + strconv.FormatInt(i, 10))
		if c.db.LookupNoTouch(key) != nil {
			continue
		}
		val := []byte("value:" + strconv.FormatInt(i, 10))
		if size >= 0 {
			v := make([]byte, size)
			copy(v, val)
			val = v
		}
		c.db.Add(key, NewStringEntry(val))
	}
	c.addOK()
}

// Digests, as Redis's DEBUG DIGEST computes them: per key, SHA1 mixes of
// the key and its value, where unordered collections XOR their elements'
// digests; the key digests are XORed together per DB, after mixing the
// DB index. Equal data sets therefore give equal digests whatever the
// order of the elements or the encodings.

// xorDigest XORs SHA1(b) into d.
func xorDigest(d *[20]byte, b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mixDigest XORs SHA1(b) into d, then replaces d by SHA1(d).
func mixDigest(d *[20]byte, b []byte) {
	xorDigest(d, b)
	*d = sha1.Sum(d[:])
}

// digestScore formats a score like C's %.17g.
func digestScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// objectDigest mixes the type and value of e into d (Redis's
// xorObjectDigest).
func objectDigest(d *[20]byte, e *Entry) {
	var aux [4]byte
	typ := uint32(e.typ)
	switch e.typ { // Redis's OBJ_* numbering
	case TypeString:
		typ = 0
	case TypeList:
		typ = 1
	case TypeSet:
		typ = 2
	case TypeZSet:
		typ = 3
	case TypeHash:
		typ = 4
	case TypeStream:
		typ = 6
	}
	binary.BigEndian.PutUint32(aux[:], typ)
	mixDigest(d, aux[:])
	o, err := entryRDB(e)
	if err == nil {
		switch o.Kind {
		case rdb.KindString:
			mixDigest(d, o.Str)
		case rdb.KindList:
			for _, el := range o.List {
				mixDigest(d, el)
			}
		case rdb.KindSet:
			for _, el := range o.Set {
				xorDigest(d, el)
			}
		case rdb.KindZSet:
			for _, m := range o.ZSet {
				var ed [20]byte
				mixDigest(&ed, m.Member)
				mixDigest(&ed, []byte(digestScore(m.Score)))
				xorDigest(d, ed[:])
			}
		case rdb.KindHash:
			for _, f := range o.Hash {
				var ed [20]byte
				mixDigest(&ed, f.Name)
				mixDigest(&ed, f.Value)
				xorDigest(d, ed[:])
			}
		}
	}
	if e.expireAt != 0 {
		xorDigest(d, []byte("!!expire!!"))
	}
}

// datasetDigest is DEBUG DIGEST's value: all zeros for an empty data set.
func (s *Server) datasetDigest() [20]byte {
	var final [20]byte
	for _, db := range s.ks.dbs {
		if db.nkeys == 0 {
			continue
		}
		var aux [4]byte
		binary.BigEndian.PutUint32(aux[:], uint32(db.id))
		mixDigest(&final, aux[:])
		for i := range db.shards {
			for k, e := range db.shards[i].keys {
				var d [20]byte
				mixDigest(&d, []byte(k))
				objectDigest(&d, e)
				xorDigest(&final, d[:])
			}
		}
	}
	return final
}
