package server

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Pub/sub (RESP2 shapes of Redis 7.0): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
// PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB, RESET.
//
// Subscriptions are guarded by Server.mu. Messages reach other clients
// through a per-client push buffer: the first subscription of a client
// gives it a writer goroutine, and from then on everything sent to that
// connection (its own replies, moved there at the end of each batch while
// Server.mu is still held, and published messages) goes through the buffer
// in order. PUBLISH only appends under a short buffer mutex and never
// blocks on a slow subscriber; a subscriber whose pending output exceeds the
// pubsub client-output-buffer-limit (32mb hard, or 8mb for 60 s) is
// disconnected, as Redis does.

func init() {
	ps := FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	register(
		&Command{Name: "subscribe", Arity: -2, Flags: ps, Proc: subscribeCommand},
		&Command{Name: "unsubscribe", Arity: -1, Flags: ps, Proc: unsubscribeCommand},
		&Command{Name: "psubscribe", Arity: -2, Flags: ps, Proc: psubscribeCommand},
		&Command{Name: "punsubscribe", Arity: -1, Flags: ps, Proc: punsubscribeCommand},
		&Command{Name: "ssubscribe", Arity: -2, Flags: ps, Proc: ssubscribeCommand},
		&Command{Name: "sunsubscribe", Arity: -1, Flags: ps, Proc: sunsubscribeCommand},
		&Command{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, Proc: publishCommand},
		&Command{Name: "spublish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, Proc: spublishCommand},
		&Command{Name: "pubsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Proc: pubsubCommand,
			Subs: map[string]int{"channels": -2, "numsub": -2, "numpat": 2, "shardchannels": -2, "shardnumsub": -2, "help": 2}},
		&Command{Name: "reset", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagTxControl, Proc: resetCommand},
	)
}

// pubsubState is the server's subscription table (Server.mu).
type pubsubState struct {
	channels map[string][]*client // channel → subscribers in subscription order
	patterns map[string][]*client // pattern → subscribers
	shard    map[string][]*client // shard channel → subscribers
}

// clientSubs is one client's subscriptions (Server.mu), in subscription
// order.
type clientSubs struct {
	channels []string
	patterns []string
	shard    []string
}

func (cs *clientSubs) count() int { return len(cs.channels) + len(cs.patterns) }

// pushWriter owns the writes to a subscribed client's connection.
type pushWriter struct {
	mu        sync.Mutex
	buf       []byte // pending output
	spare     []byte // recycled buffer
	inflight  int    // bytes handed to conn.Write
	softSince time.Time
	closing   bool // drain, then stop
	dead      bool // connection failed or limit exceeded: drop output
	wake      chan struct{}
	done      chan struct{} // closed when the goroutine exits
}

// pushEnable switches c to buffered output with its own writer goroutine
// (mu held, from c's goroutine).
func (c *client) pushEnable() {
	if c.push != nil {
		return
	}
	pw := &pushWriter{wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.push = pw
	c.s.goroutine(func() { c.pushLoop(pw) })
}

// pushAppend queues output for c (Server.mu held, from any goroutine),
// enforcing the output buffer limits of its class.
func (c *client) pushAppend(b []byte) {
	pw := c.push
	pw.mu.Lock()
	if pw.dead {
		pw.mu.Unlock()
		return
	}
	pw.buf = append(pw.buf, b...)
	n := len(pw.buf) + pw.inflight
	// The pubsub class applies while subscribed; monitors and clients
	// that have unsubscribed from everything are normal clients (by
	// default without a limit).
	class := "normal"
	if c.subscribed() {
		class = "pubsub"
	}
	lim := c.s.outputLimits(class)
	over := lim.hard > 0 && int64(n) > lim.hard
	if lim.soft > 0 && int64(n) > lim.soft {
		now := time.Now()
		if pw.softSince.IsZero() {
			pw.softSince = now
		} else if now.Sub(pw.softSince) > time.Duration(lim.softSecs)*time.Second {
			over = true
		}
	} else {
		pw.softSince = time.Time{}
	}
	if over {
		pw.dead, pw.buf = true, nil
	}
	pw.mu.Unlock()
	if over {
		c.s.log.Warn(fmt.Sprintf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", c.infoBrief()))
		c.closeAsync()
		return
	}
	select {
	case pw.wake <- struct{}{}:
	default:
	}
}

// pushLoop writes the push buffer until the client goes away.
func (c *client) pushLoop(pw *pushWriter) {
	defer close(pw.done)
	for {
		select {
		case <-pw.wake:
		case <-c.s.quit:
			return
		}
		for {
			pw.mu.Lock()
			if pw.dead || len(pw.buf) == 0 {
				stop := pw.dead || pw.closing
				pw.mu.Unlock()
				if stop {
					return
				}
				break
			}
			out := pw.buf
			pw.buf, pw.spare = pw.spare[:0], nil
			pw.inflight = len(out)
			pw.mu.Unlock()
			n, err := c.conn.Write(out)
			c.s.st.netOutPush.Add(int64(n))
			pw.mu.Lock()
			pw.inflight = 0
			if cap(out) <= 64<<10 {
				pw.spare = out[:0]
			}
			if err != nil {
				pw.dead, pw.buf = true, nil
			}
			pw.mu.Unlock()
			if err != nil {
				c.closeAsync()
				return
			}
		}
	}
}

// pushFlushOut moves the client's pending replies into its push buffer
// (Server.mu held, from c's goroutine).
func (c *client) pushFlushOut() {
	if len(c.out) > 0 {
		c.pushAppend(c.out)
		c.out = c.out[:0]
	}
}

// pushDrain lets the writer send what is queued, then stops it; it waits
// at most timeout.
func (c *client) pushDrain(timeout time.Duration) {
	pw := c.push
	pw.mu.Lock()
	pw.closing = true
	pw.mu.Unlock()
	select {
	case pw.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-pw.done:
	case <-t.C:
	}
}

// stop makes the writer goroutine exit without writing more.
func (pw *pushWriter) stop() {
	pw.mu.Lock()
	pw.dead, pw.closing, pw.buf = true, true, nil
	pw.mu.Unlock()
	select {
	case pw.wake <- struct{}{}:
	default:
	}
}

// pubsub returns the server's subscription table (mu held).
func (s *Server) pubsub() *pubsubState {
	if s.ps == nil {
		s.ps = &pubsubState{channels: map[string][]*client{}, patterns: map[string][]*client{}, shard: map[string][]*client{}}
	}
	return s.ps
}

func removeClient(list []*client, c *client) []*client {
	if i := slices.Index(list, c); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// subKind selects one of the three subscription namespaces.
type subKind int

const (
	subChannel subKind = iota
	subPattern
	subShard
)

var subNames = [3][2]string{{"subscribe", "unsubscribe"}, {"psubscribe", "punsubscribe"}, {"ssubscribe", "sunsubscribe"}}

func (c *client) subLists(k subKind) (*[]string, map[string][]*client) {
	ps := c.s.pubsub()
	switch k {
	case subPattern:
		return &c.subs.patterns, ps.patterns
	case subShard:
		return &c.subs.shard, ps.shard
	}
	return &c.subs.channels, ps.channels
}

// subCount is the count Redis reports in (un)subscribe replies.
func (c *client) subCount(k subKind) int {
	if k == subShard {
		return len(c.subs.shard)
	}
	return c.subs.count()
}

func (c *client) subscribed() bool {
	return c.subs.count()+len(c.subs.shard) > 0
}

func (c *client) subscribe(k subKind, names [][]byte) {
	c.pushEnable()
	mine, table := c.subLists(k)
	for _, n := range names {
		name := string(n)
		if !slices.Contains(*mine, name) {
			*mine = append(*mine, name)
			table[name] = append(table[name], c)
		}
		c.addArrayLen(3)
		c.addBulkString(subNames[k][0])
		c.addBulk(n)
		c.addInt(int64(c.subCount(k)))
	}
	c.pubsubOn.Store(c.subscribed())
}

// unsubscribe removes the named subscriptions (all with names nil),
// replying one message each when notify is set.
func (c *client) unsubscribe(k subKind, names [][]byte, notify bool) {
	mine, table := c.subLists(k)
	if names != nil {
		for _, n := range names {
			c.unsubscribeOne(k, mine, table, string(n), notify)
		}
		return
	}
	all := slices.Clone(*mine)
	for _, name := range all {
		c.unsubscribeOne(k, mine, table, name, notify)
	}
	if notify && len(all) == 0 {
		// Subscribed to nothing: still one message, with a null name.
		c.addArrayLen(3)
		c.addBulkString(subNames[k][1])
		c.addNull()
		c.addInt(int64(c.subCount(k)))
	}
}

func (c *client) unsubscribeOne(k subKind, mine *[]string, table map[string][]*client, name string, notify bool) {
	if i := slices.Index(*mine, name); i >= 0 {
		*mine = slices.Delete(*mine, i, i+1)
		if l := removeClient(table[name], c); len(l) == 0 {
			delete(table, name)
		} else {
			table[name] = l
		}
		c.pubsubOn.Store(c.subscribed())
	}
	if notify {
		c.addArrayLen(3)
		c.addBulkString(subNames[k][1])
		c.addBulkString(name)
		c.addInt(int64(c.subCount(k)))
	}
}

// unsubscribeAll drops every subscription silently (disconnect, RESET).
func (c *client) unsubscribeAll() {
	if c.s.ps == nil {
		return
	}
	for k := subChannel; k <= subShard; k++ {
		c.unsubscribe(k, nil, false)
	}
}

func subscribeCommand(c *client, argv [][]byte)  { c.subscribe(subChannel, argv[1:]) }
func psubscribeCommand(c *client, argv [][]byte) { c.subscribe(subPattern, argv[1:]) }
func ssubscribeCommand(c *client, argv [][]byte) { c.subscribe(subShard, argv[1:]) }

func unsubArgs(argv [][]byte) [][]byte {
	if len(argv) == 1 {
		return nil
	}
	return argv[1:]
}

func unsubscribeCommand(c *client, argv [][]byte) { c.unsubscribe(subChannel, unsubArgs(argv), true) }
func punsubscribeCommand(c *client, argv [][]byte) {
	c.unsubscribe(subPattern, unsubArgs(argv), true)
}
func sunsubscribeCommand(c *client, argv [][]byte) {
	c.unsubscribe(subShard, unsubArgs(argv), true)
}

// deliver queues a message for sc. The publishing client's own copy (a
// subscription made earlier in the same MULTI) goes after its pending
// replies, in order.
func (c *client) deliver(sc *client, msg []byte) {
	if sc == c {
		c.out = append(c.out, msg...)
		return
	}
	sc.pushAppend(msg)
}

// publish delivers a message and returns the number of receivers (mu
// held).
func (c *client) publish(channel, msg []byte, shard bool) int {
	s := c.s
	if s.ps == nil {
		return 0
	}
	n := 0
	var buf []byte
	if shard {
		subs := s.ps.shard[string(channel)]
		if len(subs) == 0 {
			return 0
		}
		buf = resp.AppendArrayLen(buf, 3)
		buf = resp.AppendBulkString(buf, "smessage")
	} else {
		subs := s.ps.channels[string(channel)]
		if len(subs) > 0 {
			buf = resp.AppendArrayLen(buf, 3)
			buf = resp.AppendBulkString(buf, "message")
		}
	}
	if buf != nil {
		buf = resp.AppendBulk(buf, channel)
		buf = resp.AppendBulk(buf, msg)
		subs := s.ps.channels[string(channel)]
		if shard {
			subs = s.ps.shard[string(channel)]
		}
		for _, sc := range subs {
			c.deliver(sc, buf)
			n++
		}
	}
	if shard {
		return n
	}
	for pat, subs := range s.ps.patterns {
		if !globMatch([]byte(pat), channel, false) {
			continue
		}
		buf = resp.AppendArrayLen(buf[:0], 4)
		buf = resp.AppendBulkString(buf, "pmessage")
		buf = resp.AppendBulkString(buf, pat)
		buf = resp.AppendBulk(buf, channel)
		buf = resp.AppendBulk(buf, msg)
		for _, sc := range subs {
			c.deliver(sc, buf)
			n++
		}
	}
	return n
}

func publishCommand(c *client, argv [][]byte) {
	c.addInt(int64(c.publish(argv[1], argv[2], false)))
}

func spublishCommand(c *client, argv [][]byte) {
	c.addInt(int64(c.publish(argv[1], argv[2], true)))
}

func pubsubCommand(c *client, argv [][]byte) {
	ps := c.s.pubsub()
	switch sub := string(lowerASCII(argv[1])); sub {
	case "help":
		c.addBulkStrings([]string{
			"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CHANNELS [<pattern>]",
			"    Return the currently active channels matching a <pattern> (default: '*').",
			"NUMPAT",
			"    Return number of subscriptions to patterns.",
			"NUMSUB [<channel> ...]",
			"    Return the number of subscribers for the specified channels, excluding",
			"    pattern subscriptions(default: no channels).",
			"SHARDCHANNELS [<pattern>]",
			"    Return the currently active shard level channels matching a <pattern> (default: '*').",
			"SHARDNUMSUB [<shardchannel> ...]",
			"    Return the number of subscribers for the specified shard level channel(s)",
			"HELP",
			"    Prints this help.",
		})
	case "channels", "shardchannels":
		if len(argv) > 3 {
			c.addError(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try PUBSUB HELP.", argv[1]))
			return
		}
		table := ps.channels
		if sub == "shardchannels" {
			table = ps.shard
		}
		var pat []byte
		if len(argv) > 2 {
			pat = argv[2]
		}
		var out []string
		for ch := range table {
			if pat == nil || globMatch(pat, []byte(ch), false) {
				out = append(out, ch)
			}
		}
		slices.Sort(out)
		c.addBulkStrings(out)
	case "numsub", "shardnumsub":
		table := ps.channels
		if sub == "shardnumsub" {
			table = ps.shard
		}
		c.addArrayLen(2 * (len(argv) - 2))
		for _, ch := range argv[2:] {
			c.addBulk(ch)
			c.addInt(int64(len(table[string(ch)])))
		}
	case "numpat":
		c.addInt(int64(len(ps.patterns)))
	}
}

func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		out[i] = lower(ch)
	}
	return out
}

// resetCommand restores the connection's default state (Redis 6.2+ RESET).
func resetCommand(c *client, argv [][]byte) {
	c.discardTransaction()
	c.unsubscribeAll()
	c.monitorStop()
	c.db = c.s.ks.dbs[0]
	c.resp = 2
	c.name = ""
	c.authed = c.s.cfg.RequirePass == ""
	c.p.Unauthenticated = !c.authed
	c.addSimple("RESET")
}

// pubsubRejected reports whether cmd is refused because the RESP2 client is
// in subscribed mode, replying the error.
func (c *client) pubsubRejected(cmd *Command, argv [][]byte) bool {
	if !c.subscribed() {
		return false
	}
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return false
	}
	name := cmd.Name
	if cmd.Subs != nil && len(argv) >= 2 {
		name += "|" + string(lowerASCII(argv[1]))
	}
	c.reject("ERR Can't execute '" + name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	return true
}
