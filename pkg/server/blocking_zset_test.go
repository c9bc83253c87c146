package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Differential cases for the sorted-set blocking commands where they do
// not block.
var diffBZPopCases = []struct {
	name  string
	lines []string
}{
	{"bzpop-nonblocking", []string{"ZADD z 1 a 2 b 3 c", "BZPOPMIN nokey z 0", "BZPOPMAX z nokey 1.5", "ZRANGE z 0 -1 WITHSCORES",
		"BZPOPMIN z -1", "BZPOPMIN z abc", "BZPOPMIN z inf", "BZPOPMIN z nan", "BZPOPMAX z 1e30", "BZPOPMIN z 0", "EXISTS z",
		"BZPOPMIN", "BZPOPMIN z", "SET s x", "BZPOPMIN s 0", "BZPOPMIN nokey s 0", "ZADD y 1 q", "BZPOPMIN s y 0",
		"BZPOPMIN y s 0", "ZADD f 1.5 m -inf n", "BZPOPMIN f 0", "BZPOPMAX f 0"}},
	{"bzmpop-nonblocking", []string{"ZADD z 1 a 2 b 3 c 4 d", "BZMPOP 0 2 nokey z MIN", "BZMPOP 0 1 z MAX COUNT 2",
		"BZMPOP 0.5 1 z MIN COUNT 10", "EXISTS z", "BZMPOP -1 1 z MIN", "BZMPOP x 1 z MIN", "BZMPOP 0 0 z MIN",
		"BZMPOP 0 1 z FOO", "BZMPOP 0 1 z MIN COUNT 0", "BZMPOP 0 1 z MIN COUNT -1", "BZMPOP 0 1 z MIN COUNT 1 COUNT 2",
		"BZMPOP 0 3 z MIN", "BZMPOP 0 1 z", "BZMPOP 0 1", "BZMPOP -1 0 z MIN", "SET s x", "BZMPOP 0 2 nokey s MAX",
		"ZADD y 1 q", "BZMPOP 0 2 s y MAX", "BZMPOP 0 9223372036854775807 y MIN", "BZMPOP 0 1 y min count 9223372036854775807"}},
	{"bzpop-in-multi", []string{"MULTI", "BZPOPMIN z 0", "BZPOPMAX z y 0", "BZMPOP 0 1 z MIN", "ZADD z 1 a", "BZPOPMAX z 0",
		"BZMPOP 0 1 z MAX", "EXEC"}},
}

func TestDiffBZPop(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range diffBZPopCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

// blockStep is one step of a multi-client scenario: connection conn sends
// args and, unless noRead, reads the reply; "read" reads a pending reply;
// "blocked n" waits until n clients are blocked.
type blockStep struct {
	conn int
	line string
}

// runBlockScenario plays steps against addr with nconn connections and
// returns the transcript of replies.
func runBlockScenario(t *testing.T, addr string, nconn int, steps []blockStep) []string {
	t.Helper()
	ctl := dial(t, addr)
	ctl.expect("+OK", "FLUSHALL")
	conns := make([]*testConn, nconn)
	for i := range conns {
		conns[i] = dial(t, addr)
	}
	var out []string
	for i, st := range steps {
		switch {
		case st.line == "read":
			out = append(out, fmt.Sprintf("%d< %s", st.conn, conns[st.conn].read().String()))
		case strings.HasPrefix(st.line, "blocked "):
			want, _ := strconv.Atoi(strings.TrimPrefix(st.line, "blocked "))
			checkFor(t, 5*time.Second, func() error {
				info := string(ctl.do("INFO", "clients").Str)
				if !strings.Contains(info, fmt.Sprintf("blocked_clients:%d\r\n", want)) {
					return fmt.Errorf("step %d: want %d blocked clients: %s", i, want, info)
				}
				return nil
			})
		default:
			noRead := strings.HasPrefix(st.line, "send ")
			argv, ok := resp.SplitArgs([]byte(strings.TrimPrefix(st.line, "send ")))
			if !ok {
				t.Fatalf("bad step %q", st.line)
			}
			args := make([]string, len(argv))
			for j, a := range argv {
				args[j] = string(a)
			}
			conns[st.conn].send(args...)
			if !noRead {
				out = append(out, fmt.Sprintf("%d< %s", st.conn, conns[st.conn].read().String()))
			}
		}
	}
	return out
}

var blockScenarios = []struct {
	name  string
	steps []blockStep
}{
	{"fifo-list-and-zset", []blockStep{
		{1, "send BZPOPMIN k 0"}, {0, "blocked 1"}, {2, "send BLPOP k 0"}, {0, "blocked 2"},
		{3, "send BZMPOP 0 1 k MAX COUNT 2"}, {0, "blocked 3"}, {4, "send BZPOPMAX k 0"}, {0, "blocked 4"},
		{0, "ZADD k 1 a 2 b 3 c"}, {1, "read"}, {3, "read"}, {0, "blocked 2"}, {0, "EXISTS k"},
		{0, "RPUSH k x"}, {2, "read"}, {0, "blocked 1"}, {0, "ZADD k 5 e"}, {4, "read"}, {0, "blocked 0"}}},
	{"other-type-keeps-blocked", []blockStep{
		{1, "send BZPOPMIN k 0"}, {0, "blocked 1"}, {0, "RPUSH k a"}, {0, "LLEN k"}, {0, "blocked 1"},
		{0, "DEL k"}, {0, "SET k v"}, {0, "blocked 1"}, {0, "DEL k"}, {0, "ZADD k 1 m"}, {1, "read"}, {0, "blocked 0"},
		{1, "send BLPOP k 0"}, {0, "blocked 1"}, {0, "ZADD k 1 m"}, {0, "ZCARD k"}, {0, "blocked 1"}, {0, "DEL k"},
		{0, "RPUSH k x"}, {1, "read"}}},
	{"keys-created-otherwise", []blockStep{
		{1, "send BZPOPMAX z 0"}, {0, "blocked 1"}, {0, "ZADD tmp 1 a 2 b"}, {0, "RENAME tmp z"}, {1, "read"},
		{0, "ZRANGE z 0 -1 WITHSCORES"},
		{1, "send BZMPOP 0 2 a b MIN COUNT 10"}, {0, "blocked 1"}, {0, "ZADD s1 1 x 2 y"}, {0, "ZUNIONSTORE b 1 s1"},
		{1, "read"}, {0, "EXISTS b"},
		{1, "send BZPOPMAX n 0"}, {0, "blocked 1"}, {0, "ZINCRBY n 2.5 m"}, {1, "read"},
		{1, "send BZPOPMIN r 0"}, {0, "blocked 1"}, {0, "ZRANGESTORE r s1 0 0"}, {1, "read"},
		{1, "send BZPOPMIN c 0"}, {0, "blocked 1"}, {0, "COPY s1 c"}, {1, "read"},
		{1, "send BZPOPMIN i 0"}, {0, "blocked 1"}, {0, "ZINTERSTORE i 2 s1 s1"}, {1, "read"}, {0, "ZRANGE i 0 -1"},
		{1, "send BZPOPMIN sw 0"}, {0, "blocked 1"}, {0, "SELECT 1"}, {0, "ZADD sw 7 q"}, {0, "SWAPDB 0 1"}, {1, "read"},
		{0, "SELECT 0"}, {2, "SELECT 1"},
		{2, "send BZPOPMIN mv 0"}, {0, "blocked 1"}, {0, "ZADD mv 3 w"}, {0, "MOVE mv 1"}, {2, "read"}}},
	{"exec-serves-after-transaction", []blockStep{
		{1, "send BZPOPMIN k 0"}, {0, "blocked 1"}, {0, "MULTI"}, {0, "ZADD k 1 a"}, {0, "ZADD k 2 b"}, {0, "ZPOPMIN k"},
		{0, "EXEC"}, {1, "read"}, {0, "EXISTS k"},
		{1, "send BZMPOP 0 1 k MIN COUNT 5"}, {0, "blocked 1"}, {0, "MULTI"}, {0, "ZADD k 1 a 2 b"}, {0, "ZREM k a"},
		{0, "ZADD k 3 c"}, {0, "EXEC"}, {1, "read"}}},
	{"multiple-keys-and-timeout", []blockStep{
		{1, "send BZPOPMIN a b 0"}, {0, "blocked 1"}, {0, "ZADD b 1 x"}, {1, "read"},
		{1, "BZPOPMIN a 0.05"}, {1, "BZMPOP 0.05 1 a MIN"}, {0, "blocked 0"},
		{1, "send BZPOPMIN q q 0"}, {2, "send BZPOPMAX q 0"}, {0, "blocked 2"}, {0, "ZADD q 1 a 2 b 3 c"},
		{1, "read"}, {2, "read"}, {0, "ZRANGE q 0 -1"}}},
}

// TestDiffBlockingZset plays multi-client blocking scenarios against both
// servers and compares the transcripts.
func TestDiffBlockingZset(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, sc := range blockScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ours := runBlockScenario(t, s.Addr().String(), 5, sc.steps)
			theirs := runBlockScenario(t, rp.addr, 5, sc.steps)
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
				t.Errorf("transcripts differ:\nours:\n%s\nredis:\n%s", strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
			}
		})
	}
}

// TestBlockedTimeNotCounted: the time spent blocked is left out of the
// slow log and command stats.
func TestBlockedTimeNotCounted(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("+OK", "CONFIG", "SET", "slowlog-log-slower-than", "100000")
	c.expect("(nil-array)", "BZPOPMIN", "k", "0.3")
	c.expect("(nil-array)", "BLPOP", "k", "0.2")
	c.expect("0", "SLOWLOG", "LEN")
	info := string(c.do("INFO", "commandstats").Str)
	for _, name := range []string{"bzpopmin", "blpop"} {
		i := strings.Index(info, "cmdstat_"+name+":")
		if i < 0 {
			t.Fatalf("no stats for %s: %s", name, info)
		}
		line := info[i:]
		line = line[:strings.Index(line, "\r\n")]
		j := strings.Index(line, "usec=")
		f := strings.FieldsFunc(line[j+5:], func(r rune) bool { return r == ',' })
		usec, err := strconv.Atoi(f[0])
		if err != nil || usec > 100000 {
			t.Fatalf("%s: blocked time counted: %s", name, line)
		}
	}
}
