package server

import "github.com/codisgo/codis/pkg/resp"

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (Redis 7.0):
// the longest common subsequence of two strings, its length, or the
// matching ranges.

func init() {
	register(&Command{Name: "lcs", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 2, Step: 1, Proc: lcsCommand})
	commandMeta["lcs"] = cmdMeta{cats: "read string slow", specFlags: "RO,access", group: "string", since: "7.0.0",
		flags: "readonly", first: 1, last: 2, step: 1}
}

func lcsCommand(c *client, argv [][]byte) {
	var strs [2][]byte
	for i := range strs {
		e := c.db.LookupRead(argv[1+i])
		if e == nil {
			continue
		}
		if e.typ != TypeString {
			c.addError("ERR The specified keys must contain string values")
			return
		}
		strs[i] = e.Str()
	}
	var getLen, getIdx, withMatchLen bool
	minMatch := int64(0)
	for j := 3; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "len"):
			getLen = true
		case eqFold(argv[j], "idx"):
			getIdx = true
		case eqFold(argv[j], "withmatchlen"):
			withMatchLen = true
		case eqFold(argv[j], "minmatchlen") && j+1 < len(argv):
			v, ok := parseInt64(argv[j+1])
			if !ok {
				c.addError(errNotInt)
				return
			}
			minMatch = max(v, 0)
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.addError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	a, b := strs[0], strs[1]
	if cells := (int64(len(a)) + 1) * (int64(len(b)) + 1) * 4; cells > c.s.cfg.ProtoMaxBulkLen {
		c.addError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// t[i*w+j] is the LCS length of a[:i] and b[:j].
	w := len(b) + 1
	t := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				t[i*w+j] = t[(i-1)*w+j-1] + 1
			default:
				t[i*w+j] = max(t[(i-1)*w+j], t[i*w+j-1])
			}
		}
	}
	total := int(t[len(a)*w+len(b)])
	if getLen {
		c.addInt(int64(total))
		return
	}
	// Walk back from the ends: the subsequence comes out last byte first,
	// and the matching ranges from the end of the strings, each one
	// emitted when the run of matches it belongs to ends. On a mismatch
	// the walk moves along a only when that keeps a longer LCS.
	seq := make([]byte, total)
	var matches []byte
	nmatches := 0
	open := false
	var aStart, aEnd, bStart, bEnd int
	emit := func() {
		n := aEnd - aStart + 1
		open = false
		if !getIdx || (minMatch > 0 && int64(n) < minMatch) {
			return
		}
		nmatches++
		if withMatchLen {
			matches = resp.AppendArrayLen(matches, 3)
		} else {
			matches = resp.AppendArrayLen(matches, 2)
		}
		matches = resp.AppendArrayLen(matches, 2)
		matches = resp.AppendInt(resp.AppendInt(matches, int64(aStart)), int64(aEnd))
		matches = resp.AppendArrayLen(matches, 2)
		matches = resp.AppendInt(resp.AppendInt(matches, int64(bStart)), int64(bEnd))
		if withMatchLen {
			matches = resp.AppendInt(matches, int64(n))
		}
	}
	k := total
	for i, j := len(a), len(b); i > 0 && j > 0; {
		if a[i-1] == b[j-1] {
			k--
			seq[k] = a[i-1]
			if open {
				aStart, bStart = i-1, j-1 // the run extends backwards
			} else {
				open = true
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			}
			i--
			j--
			if aStart == 0 || bStart == 0 {
				emit()
			}
			continue
		}
		if t[(i-1)*w+j] > t[i*w+j-1] {
			i--
		} else {
			j--
		}
		if open {
			emit()
		}
	}
	if !getIdx {
		c.addBulk(seq)
		return
	}
	c.addArrayLen(4)
	c.addBulkString("matches")
	c.addArrayLen(nmatches)
	c.out = append(c.out, matches...)
	c.addBulkString("len")
	c.addInt(int64(total))
}
