package rdb

import (
	"testing"
)

// redisArgs makes Redis use every encoding: plain quicklist nodes for big
// elements and LZF-compressed inner quicklist nodes.
var redisArgs = []string{"--enable-debug-command", "yes", "--list-compress-depth", "1",
	"--list-max-listpack-size", "-1"}

func startTestRedis(t *testing.T, dir string) (*redisProc, *respConn) {
	p, c := startRedis(t, dir, redisArgs...)
	// Elements of 4 KiB and more get their own plain node.
	mustDo(t, c, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "4096")
	return p, c
}

func TestRedisDumpDecode(t *testing.T) {
	_, c := startTestRedis(t, "")
	types := map[byte]bool{}
	nodeKinds := map[string]int{}
	for _, f := range fixtures() {
		storeObject(t, c, f.name, f.obj)
		p, ok := mustDo(t, c, "DUMP", f.name).([]byte)
		if !ok {
			t.Fatalf("%s: DUMP returned nothing", f.name)
		}
		types[p[0]] = true
		if p[0] == TypeListQuicklist2 {
			countNodes(t, p[1:len(p)-10], nodeKinds)
		}
		got, err := DecodeDump(p, MaxVersionRedis7)
		if err != nil {
			t.Fatalf("%s (type %d): %v", f.name, p[0], err)
		}
		if !objEqual(got, f.obj) {
			t.Fatalf("%s (type %d): got %s want %s", f.name, p[0], describe(got), describe(f.obj))
		}
	}
	if nodeKinds["plain"] == 0 || nodeKinds["lzf"] == 0 || nodeKinds["packed"] == 0 {
		t.Errorf("quicklist node kinds not all covered: %v", nodeKinds)
	}
	for _, want := range []byte{TypeString, TypeSet, TypeZSet2, TypeHash, TypeSetIntset,
		TypeHashListpack, TypeZSetListpack, TypeListQuicklist2} {
		if !types[want] {
			t.Errorf("fixtures never made Redis emit type %d (got %v)", want, types)
		}
	}
}

func TestRedisRestoreEncoded(t *testing.T) {
	_, c := startTestRedis(t, "")
	for _, f := range fixtures() {
		p, err := EncodeDump(&f.obj, DumpVersion)
		if err != nil {
			t.Fatal(err)
		}
		key := "restored:" + f.name
		if v, err := c.do("RESTORE", key, 0, p); err != nil || v != "OK" {
			t.Fatalf("%s: RESTORE: %v %v", f.name, v, err)
		}
		if got := fetchObject(t, c, key); !objEqual(got, f.obj) {
			t.Fatalf("%s: read back %s want %s", f.name, describe(got), describe(f.obj))
		}
		// And the payload Redis dumps for it decodes to the same value.
		p2 := mustDo(t, c, "DUMP", key).([]byte)
		got, err := DecodeDump(p2, MaxVersionRedis7)
		if err != nil || !objEqual(got, f.obj) {
			t.Fatalf("%s: re-dump: %v", f.name, err)
		}
	}
	// A corrupted payload is refused by Redis with the checksum error our
	// decoder also reports.
	p, _ := EncodeDump(&Object{Kind: KindString, Str: []byte("x")}, DumpVersion)
	p[len(p)-1] ^= 0xff
	if _, err := c.do("RESTORE", "bad", 0, p); err == nil || err.Error() != "ERR DUMP payload version or checksum are wrong" {
		t.Fatalf("corrupt RESTORE: %v", err)
	}
}

// countNodes classifies the nodes of a type 18 body.
func countNodes(t *testing.T, body []byte, kinds map[string]int) {
	d := decoder{buf: body}
	n, _, err := d.readLen()
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < n; i++ {
		container, _, err := d.readLen()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case container == 1:
			kinds["plain"]++
		case d.buf[d.pos] == 0xc3:
			kinds["lzf"]++
		default:
			kinds["packed"]++
		}
		if _, err := d.readString(); err != nil {
			t.Fatal(err)
		}
	}
}
