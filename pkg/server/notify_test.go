package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codisgo/codis/pkg/resp"
)

// TestNotifyConfigDiff compares CONFIG SET / GET notify-keyspace-events
// with redis-server 7.0: accepted letters, refused ones and the canonical
// form printed back.
func TestNotifyConfigDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	values := []string{"KEA", "Ex", "AKE", "", "gKE", "KEA m", "KEAmn", "KA", "g$lshzxetdn", "g$lshzxetd",
		"g$lshzxeKE", "KEAtn", "Kz", "zK", "Ex$", "EEx", "A", "n", "nK", "m", "mKE", "d", "t", "KEAq",
		"ke", "a", "KEgx", "$lshz", "KEg$lshzxetdnm", "x E", "KE", "E"}
	for _, v := range values {
		for _, args := range [][]string{
			{"CONFIG", "SET", "notify-keyspace-events", v},
			{"CONFIG", "GET", "notify-keyspace-events"},
		} {
			ra, rb := a.do(args...).String(), b.do(args...).String()
			if ra != rb {
				t.Errorf("%q after setting %q:\n ours:  %s\n redis: %s", args, v, ra, rb)
			}
		}
	}
	a.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "")
}

func TestNotifyConfigFile(t *testing.T) {
	cfg := NewConfig()
	if err := cfg.LoadString("notify-keyspace-events Elgx\n"); err != nil {
		t.Fatal(err)
	}
	if want := notifyKeyevent | notifyList | notifyGeneric | notifyExpired; cfg.notifyFlags != want {
		t.Errorf("flags %b, want %b", cfg.notifyFlags, want)
	}
	err := cfg.LoadString("notify-keyspace-events KEAz?\n")
	if err == nil || !strings.Contains(err.Error(), "Invalid event class character") {
		t.Errorf("bad letter: got %v", err)
	}
	s := startServer(t, "notify-keyspace-events", "AKE")
	c := dial(t, s.Addr().String())
	c.expect(`["notify-keyspace-events" "AKE"]`, "CONFIG", "GET", "notify-keyspace-events")
	sub := dial(t, s.Addr().String())
	sub.do("SUBSCRIBE", "__keyevent@0__:set")
	c.expect("+OK", "SET", "k", "v")
	sub.send("PING")
	if r := sub.read().String(); r != `["message" "__keyevent@0__:set" "k"]` {
		t.Errorf("got %s", r)
	}
}

func TestNotifyFormatFlags(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", ""}, {"KEA", "AKE"}, {"AKEmn", "AKEm"}, {"nl", "ln"}, {"Em$", "$Em"},
		{"g$lshzxetd", "A"}, {"g$lshzxet", "g$lshzxet"},
	} {
		f, err := parseNotifyFlags(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := formatNotifyFlags(f); got != tc.out {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.out)
		}
	}
	if _, err := parseNotifyFlags("KEX"); err == nil {
		t.Error("X accepted")
	}
}

// TestNotifySilent checks that nothing is published by default, nor with
// classes but neither K nor E, nor with K and E but no class.
func TestNotifySilent(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	sub := dial(t, s.Addr().String())
	sub.do("PSUBSCRIBE", "*")
	for _, events := range []string{"", "A", "KE", "Amn", "Kt"} {
		c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", events)
		for _, cmd := range []string{"SET a 1", "SET b 1 PX 1", "LPUSH l x", "LPOP l", "EXPIRE a 100",
			"RENAME a c", "DEL c", "HSET h f v", "SADD s m", "ZADD z 1 m", "GET nokey"} {
			argv, _ := resp.SplitArgs([]byte(cmd))
			args := make([]string, len(argv))
			for i, x := range argv {
				args[i] = string(x)
			}
			c.do(args...)
		}
		sub.send("PING")
		if r := sub.read().String(); r != `["pong" ""]` {
			t.Errorf("notify-keyspace-events %q: got %s", events, r)
		}
	}
	// The same subscriber does get messages once enabled.
	c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "E$")
	c.expect("+OK", "SET", "a", "1")
	sub.send("PING")
	if r := sub.read().String(); r != `["pmessage" "*" "__keyevent@0__:set" "a"]` {
		t.Errorf("enabled: got %s", r)
	}
	c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "")
}

// TestNotifyNoAlloc checks that notification points allocate nothing when
// notifications are off, and when on with no subscriber or with only
// subscribers of other channels (channel names use scratch buffers).
func TestNotifyNoAlloc(t *testing.T) {
	s := New(nil, nil)
	c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
	set := [][]byte{[]byte("SET"), []byte("key"), []byte("value")}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := func(name string) {
		t.Helper()
		c.process(set) // warm up (creates the key, grows buffers)
		c.out = c.out[:0]
		if n := testing.AllocsPerRun(200, func() {
			c.process(set)
			c.out = c.out[:0]
		}); n != 0 {
			t.Errorf("%s: SET allocates %v times per run", name, n)
		}
	}
	run("off")
	s.cfg.notifyFlags, _ = parseNotifyFlags("KEA")
	s.applyNotifyConfig()
	run("on, no subscriber")
	other := &client{s: s, db: s.ks.dbs[0]}
	s.pubsub().channels["other"] = []*client{other}
	s.pubsub().patterns["__keyevent@0__:del"] = []*client{other}
	run("on, other subscriptions")
}

// BenchmarkSetNotify measures SET on an existing key with notifications
// off (the default) and on (KEA) without matching subscribers.
func BenchmarkSetNotify(b *testing.B) {
	for _, events := range []string{"", "KEA"} {
		b.Run(fmt.Sprintf("events=%q", events), func(b *testing.B) {
			s := New(nil, nil)
			s.cfg.notifyFlags, _ = parseNotifyFlags(events)
			s.applyNotifyConfig()
			c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
			s.pubsub().channels["other"] = nil
			set := [][]byte{[]byte("SET"), []byte("key"), []byte("value")}
			s.mu.Lock()
			defer s.mu.Unlock()
			c.process(set)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.process(set)
				c.out = c.out[:0]
			}
		})
	}
}

// TestNotifySlots checks the documented choice for the Codis commands:
// SLOTSRESTORE and SLOTSDEL publish nothing, except the "new" event (class
// n) every key added to the keyspace reports.
func TestNotifySlots(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	sub := dial(t, s.Addr().String())
	sub.do("PSUBSCRIBE", "__key*__:*")
	c.expect("+OK", "SET", "k", "v")
	payload := c.do("DUMP", "k").Str
	slot := c.do("SLOTSHASHKEY", "k2").Elems[0].Int
	collect := func() string {
		sub.send("PING")
		var got []string
		for {
			r := sub.read()
			if r.String() == `["pong" ""]` {
				return strings.Join(got, " ")
			}
			got = append(got, r.Elems[2].Str+":"+r.Elems[3].Str)
		}
	}
	for _, tc := range []struct{ events, restore string }{
		{"KEA", ""},
		{"KEAn", "__keyspace@0__:k2:new __keyevent@0__:new:k2"},
	} {
		c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", tc.events)
		c.expect("+OK", "SLOTSRESTORE", "k2", "0", payload)
		if got := collect(); got != tc.restore {
			t.Errorf("%s: SLOTSRESTORE published %q, want %q", tc.events, got, tc.restore)
		}
		c.do("SLOTSDEL", fmt.Sprint(slot))
		if got := collect(); got != "" {
			t.Errorf("%s: SLOTSDEL published %q", tc.events, got)
		}
		c.expect("0", "EXISTS", "k2")
		c.expect("1", "DEL", "k")
		if got, want := collect(), "__keyspace@0__:k:del __keyevent@0__:del:k"; got != want {
			t.Errorf("%s: DEL published %q, want %q", tc.events, got, want)
		}
		c.expect("+OK", "SET", "k", "v")
		collect()
	}
	c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "")
}

// TestNotifyConfigRewrite checks that CONFIG REWRITE keeps the setting.
func TestNotifyConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte("port 0\nbind 127.0.0.1\nsave \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = dir
	s := New(cfg, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := dial(t, s.Addr().String())
	c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "Elx")
	c.expect("+OK", "CONFIG", "REWRITE")
	again, err := ParseArgs([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := parseNotifyFlags("Elx"); again.notifyFlags != f || again.notifyEvents != "lxE" {
		t.Errorf("after rewrite: flags %b %q", again.notifyFlags, again.notifyEvents)
	}
}
