package server

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// MEMORY: the figures come from our accounting (entrySize, usedMemory)
// and the Go runtime; they approximate Redis's rather than match them.

func init() {
	register(&Command{Name: "memory", Arity: -2, Flags: FlagReadOnly, Proc: memoryCommand,
		KeysFn: memoryKeys,
		Subs:   map[string]int{"doctor": 2, "malloc-stats": 2, "purge": 2, "stats": 2, "usage": -3, "help": 2}})
}

// memoryKeys: MEMORY USAGE's key is its third argument.
func memoryKeys(argv [][]byte) [][]byte {
	if len(argv) >= 3 && eqFold(argv[1], "usage") {
		return argv[2:3]
	}
	return nil
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

func memoryCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	switch {
	case sub == "usage" && len(argv) >= 3:
		for i := 3; i < len(argv); i++ {
			if eqFold(argv[i], "samples") && i+1 < len(argv) {
				n, ok := parseInt64(argv[i+1])
				if !ok {
					c.addError(errNotInt)
					return
				}
				if n < 0 {
					c.addError(errSyntax)
					return
				}
				i++
				continue
			}
			c.addError(errSyntax)
			return
		}
		e := c.db.LookupNoTouch(argv[2])
		if e == nil {
			c.addNull()
			return
		}
		// Our accounting is exact (running totals): SAMPLES is accepted
		// but not needed.
		c.addInt(entrySize(string(argv[2]), e))
	case sub == "stats" && len(argv) == 2:
		c.memoryStats()
	case sub == "doctor" && len(argv) == 2:
		if s.usedMemory() < 5<<20 {
			c.addBulkString("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
			return
		}
		c.addBulkString("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
	case sub == "malloc-stats" && len(argv) == 2:
		c.addBulkString("Stats not supported for the current allocator")
	case sub == "purge" && len(argv) == 2:
		debug.FreeOSMemory()
		c.addOK()
	case sub == "help" && len(argv) == 2:
		c.addHelp(memoryHelp)
	default:
		unknownSubcommand(c, argv)
	}
}

// memoryStats replies MEMORY STATS with Redis 7.0's fields.
func (c *client) memoryStats() {
	s := c.s
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := s.usedMemory()
	peak := max(used, s.peakMem)
	rss := int64(ms.Sys - ms.HeapReleased)
	var backlog int64
	if s.repl != nil && s.repl.backlog != nil {
		backlog = s.backlogSize()
	}
	var nkeys int64
	type dbOver struct {
		id          int
		main, expir int64
	}
	var dbs []dbOver
	for _, db := range s.ks.dbs {
		if db.nkeys == 0 {
			continue
		}
		nkeys += int64(db.nkeys)
		dbs = append(dbs, dbOver{db.id, int64(db.nkeys) * 48, int64(db.nvol) * 32})
	}
	nclients := s.nclients.Load()
	clientsMem := nclients * 20 << 10
	luaMem, _ := s.scriptInfo()
	overhead := int64(baseMemory) + backlog + clientsMem + luaMem
	for _, d := range dbs {
		overhead += d.main + d.expir
	}
	dataset := max(used-overhead, 0)
	netUsed := max(used-int64(baseMemory), 1)
	alloc := int64(ms.HeapAlloc)
	active := int64(ms.HeapInuse)
	resident := rss
	pct := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) * 100 / float64(b)
	}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	var n int
	var body []byte
	kv := func(name string, v any) {
		n++
		body = appendBulkString(body, name)
		switch x := v.(type) {
		case int64:
			body = append(body, ':')
			body = strconv.AppendInt(body, x, 10)
			body = append(body, '\r', '\n')
		case float64:
			body = appendBulkString(body, strconv.FormatFloat(x, 'g', 17, 64))
		case []byte:
			body = append(body, x...)
		}
	}
	kv("peak.allocated", peak)
	kv("total.allocated", used)
	kv("startup.allocated", int64(baseMemory))
	kv("replication.backlog", backlog)
	kv("clients.slaves", int64(0))
	kv("clients.normal", clientsMem)
	kv("cluster.links", int64(0))
	kv("aof.buffer", int64(0))
	kv("lua.caches", luaMem)
	kv("functions.caches", int64(0))
	for _, d := range dbs {
		var sub []byte
		sub = append(sub, "*6\r\n"...)
		sub = appendBulkString(sub, "overhead.hashtable.main")
		sub = append(sub, ':')
		sub = strconv.AppendInt(sub, d.main, 10)
		sub = append(sub, "\r\n"...)
		sub = appendBulkString(sub, "overhead.hashtable.expires")
		sub = append(sub, ':')
		sub = strconv.AppendInt(sub, d.expir, 10)
		sub = append(sub, "\r\n"...)
		sub = appendBulkString(sub, "overhead.hashtable.slot-to-keys")
		sub = append(sub, ":0\r\n"...)
		kv("db."+strconv.Itoa(d.id), sub)
	}
	kv("overhead.total", overhead)
	kv("keys.count", nkeys)
	if nkeys > 0 {
		kv("keys.bytes-per-key", netUsed/nkeys)
	} else {
		kv("keys.bytes-per-key", int64(0))
	}
	kv("dataset.bytes", dataset)
	kv("dataset.percentage", pct(dataset, netUsed))
	kv("peak.percentage", pct(used, peak))
	kv("allocator.allocated", alloc)
	kv("allocator.active", active)
	kv("allocator.resident", resident)
	kv("allocator-fragmentation.ratio", ratio(active, alloc))
	kv("allocator-fragmentation.bytes", active-alloc)
	kv("allocator-rss.ratio", ratio(resident, active))
	kv("allocator-rss.bytes", resident-active)
	kv("rss-overhead.ratio", ratio(rss, resident))
	kv("rss-overhead.bytes", rss-resident)
	kv("fragmentation", ratio(rss, used))
	kv("fragmentation.bytes", rss-used)
	c.addArrayLen(2 * n)
	c.out = append(c.out, body...)
}

func appendBulkString(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}
