package server

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func init() {
	register(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast | FlagStale, Proc: pingCommand},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast, Proc: echoCommand},
		&Command{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Proc: selectCommand},
		&Command{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast, Proc: swapdbCommand},
		&Command{Name: "auth", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth, Proc: authCommand},
		&Command{Name: "hello", Arity: -1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth, Proc: helloCommand},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagTxControl, Proc: quitCommand},
		&Command{Name: "dbsize", Arity: 1, Flags: FlagReadOnly | FlagFast, Proc: dbsizeCommand},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite, Proc: flushdbCommand},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite, Proc: flushallCommand},
		&Command{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast | FlagRandom, Proc: timeCommand},
		&Command{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast | FlagRandom, Proc: lastsaveCommand},
		&Command{Name: "shutdown", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoMulti, Proc: shutdownCommand},
		&Command{Name: "replicaof", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Proc: replicaofCommand},
		&Command{Name: "slaveof", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Proc: replicaofCommand},
		&Command{Name: "role", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Proc: roleCommand},
		&Command{Name: "replconf", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Proc: replconfCommand},
		&Command{Name: "psync", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Proc: psyncCommand},
		&Command{Name: "sync", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Proc: syncCommand},
		&Command{Name: "wait", Arity: 3, Flags: FlagNoScript, Proc: waitCommand},
		&Command{Name: "slowlog", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Proc: slowlogCommand,
			Subs: map[string]int{"get": -2, "len": 2, "reset": 2, "help": 2}},
		&Command{Name: "info", Arity: -1, Flags: FlagLoading | FlagStale, Proc: infoCommand},
		&Command{Name: "config", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Proc: configCommand,
			Subs: map[string]int{"get": -3, "set": -4, "resetstat": 2, "rewrite": 2, "help": 2}},
		&Command{Name: "client", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale, Proc: clientCommand,
			Subs: map[string]int{"id": 2, "info": 2, "list": -2, "kill": -3, "getname": 2, "setname": 3, "help": 2,
				"pause": -3, "unpause": 2, "no-evict": 3, "reply": 3, "getredir": 2, "unblock": -3, "tracking": -3,
				"caching": 3, "trackinginfo": 2}},
		&Command{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Proc: commandCommand,
			Subs: map[string]int{"count": 2, "docs": -2, "getkeys": -4, "getkeysandflags": -4, "help": 2, "info": -2, "list": -2}},
	)
}

func pingCommand(c *client, argv [][]byte) {
	if c.subscribed() && len(argv) <= 2 { // RESP2 subscribed mode
		c.addArrayLen(2)
		c.addBulkString("pong")
		if len(argv) == 2 {
			c.addBulk(argv[1])
		} else {
			c.addBulkString("")
		}
		return
	}
	switch len(argv) {
	case 1:
		c.addRaw("+PONG\r\n")
	case 2:
		c.addBulk(argv[1])
	default:
		c.addError(errWrongArgs("ping"))
	}
}

func echoCommand(c *client, argv [][]byte) { c.addBulk(argv[1]) }

func (s *Server) parseDBIndex(b []byte) (int, string) {
	n, ok := parseInt64(b)
	if !ok || n < -1<<31 || n > 1<<31-1 {
		return 0, errNotInt
	}
	if n < 0 || n >= int64(len(s.ks.dbs)) {
		return 0, errDBRange
	}
	return int(n), ""
}

func selectCommand(c *client, argv [][]byte) {
	id, msg := c.s.parseDBIndex(argv[1])
	if msg != "" {
		c.addError(msg)
		return
	}
	c.db = c.s.ks.dbs[id]
	c.addOK()
}

func swapdbCommand(c *client, argv [][]byte) {
	a, ok1 := parseInt64(argv[1])
	if !ok1 || a < -1<<31 || a > 1<<31-1 {
		c.addError("ERR invalid first DB index")
		return
	}
	b, ok2 := parseInt64(argv[2])
	if !ok2 || b < -1<<31 || b > 1<<31-1 {
		c.addError("ERR invalid second DB index")
		return
	}
	n := int64(len(c.s.ks.dbs))
	if a < 0 || a >= n || b < 0 || b >= n {
		c.addError(errDBRange)
		return
	}
	if a != b {
		c.s.ks.dbs[a].swapWith(c.s.ks.dbs[b])
	}
	c.addOK()
}

const errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

// checkAuth validates credentials for AUTH/HELLO; it returns an error text.
func (c *client) checkAuth(user, pass []byte) string {
	pw := c.s.cfg.RequirePass
	if user != nil && string(user) != "default" {
		return errWrongPass
	}
	if pw != "" && string(pass) != pw {
		return errWrongPass
	}
	return ""
}

func (c *client) setAuthed() {
	c.authed = true
	c.p.Unauthenticated = false
}

func authCommand(c *client, argv [][]byte) {
	if len(argv) > 3 {
		c.addError(errSyntax)
		return
	}
	var user []byte
	pass := argv[1]
	if len(argv) == 3 {
		user, pass = argv[1], argv[2]
	} else if c.s.cfg.RequirePass == "" {
		c.addError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		return
	}
	if msg := c.checkAuth(user, pass); msg != "" {
		c.addError(msg)
		return
	}
	c.setAuthed()
	c.addOK()
}

func helloCommand(c *client, argv [][]byte) {
	i := 1
	if len(argv) >= 2 {
		ver, ok := parseInt64(argv[1])
		if !ok {
			c.addError("ERR Protocol version is not an integer or out of range")
			return
		}
		if ver != 2 {
			c.addError("NOPROTO unsupported protocol version")
			return
		}
		i = 2
	}
	var user, pass, name []byte
	for ; i < len(argv); i++ {
		more := len(argv) - i - 1
		switch opt := strings.ToLower(string(argv[i])); {
		case opt == "auth" && more >= 2:
			user, pass = argv[i+1], argv[i+2]
			i += 2
		case opt == "setname" && more >= 1:
			name = argv[i+1]
			i++
		default:
			c.addError(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", argv[i]))
			return
		}
	}
	if pass != nil {
		if msg := c.checkAuth(user, pass); msg != "" {
			c.addError(msg)
			return
		}
		c.setAuthed()
	}
	if !c.authed {
		c.addError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if name != nil {
		if !validClientName(name) {
			c.addError(errClientName)
			return
		}
		c.name = string(name)
	}
	role := "master"
	if c.s.cfg.ReplicaOfHost != "" {
		role = "replica"
	}
	c.addArrayLen(14)
	c.addBulkString("server")
	c.addBulkString("redis")
	c.addBulkString("version")
	c.addBulkString(Version)
	c.addBulkString("proto")
	c.addInt(2)
	c.addBulkString("id")
	c.addInt(c.id)
	c.addBulkString("mode")
	c.addBulkString("standalone")
	c.addBulkString("role")
	c.addBulkString(role)
	c.addBulkString("modules")
	c.addArrayLen(0)
}

func quitCommand(c *client, argv [][]byte) {
	c.addOK()
	c.closeAfterReply = true
}

func dbsizeCommand(c *client, argv [][]byte) { c.addInt(int64(c.db.nkeys)) }

// parseFlushMode accepts [ASYNC|SYNC].
func parseFlushMode(c *client, argv [][]byte) bool {
	if len(argv) > 2 {
		c.addError(errSyntax)
		return false
	}
	if len(argv) == 2 && !bytes.EqualFold(argv[1], []byte("async")) && !bytes.EqualFold(argv[1], []byte("sync")) {
		c.addError(errSyntax)
		return false
	}
	return true
}

func flushdbCommand(c *client, argv [][]byte) {
	if !parseFlushMode(c, argv) {
		return
	}
	before := c.s.ks.dirty
	n := c.db.flush()
	c.s.ks.dirty = before + int64(max(n, 1)) // Redis counts the removed keys
	c.addOK()
}

// flushallCommand empties every DB. As in Redis 7.0, a running BGSAVE is
// stopped and, with save rules configured, the (empty) data set is saved
// at once; rdb_changes_since_last_save then reads 0.
func flushallCommand(c *client, argv [][]byte) {
	if !parseFlushMode(c, argv) {
		return
	}
	s := c.s
	before := s.ks.dirty
	n := 0
	for _, db := range s.ks.dbs {
		n += db.flush()
	}
	s.ks.dirty = before + int64(max(n, 1))
	s.abortBgsave()
	if s.cfg.Save != "" {
		_ = s.rdbSaveSync() // failures are logged; FLUSHALL still succeeds
	}
	// The save may have reset dirty: replicas must see FLUSHALL anyway.
	s.forcePropagation()
	c.addOK()
}

func timeCommand(c *client, argv [][]byte) {
	now := time.Now()
	c.addArrayLen(2)
	c.addBulkInt(now.Unix())
	c.addBulkInt(int64(now.Nanosecond() / 1000))
}

func lastsaveCommand(c *client, argv [][]byte) { c.addInt(c.s.lastSave) }

func shutdownCommand(c *client, argv [][]byte) {
	var nosave, save, force, abort, other bool
	for _, a := range argv[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "now":
			other = true
		case "force":
			force = true
		case "abort":
			abort = true
		default:
			c.addError(errSyntax)
			return
		}
	}
	if (abort && (nosave || save || force || other)) || (nosave && save) {
		c.addError(errSyntax)
		return
	}
	if abort {
		c.addError("ERR No shutdown in progress.")
		return
	}
	c.s.log.Warn("user requested shutdown")
	if err := c.s.prepareShutdown(nosave, save, force); err != nil {
		c.addError("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.closeAfterReply = true
	c.s.requestShutdown()
}

// Slow log.

type slowlogEntry struct {
	id       int64
	time     int64 // unix seconds
	duration int64 // µs
	argv     []string
	addr     string
	name     string
}

const (
	slowlogMaxArgc = 32
	slowlogMaxArg  = 128
)

func (s *Server) slowlogAdd(c *client, argv [][]byte, start time.Time, d time.Duration) {
	if s.cfg.SlowlogMaxLen == 0 {
		return
	}
	e := slowlogEntry{id: s.slowlogID, time: start.Unix(), duration: d.Microseconds(), addr: c.addr, name: c.name}
	s.slowlogID++
	n := min(len(argv), slowlogMaxArgc)
	redact := redactedArgs(argv)
	for i := 0; i < n; i++ {
		if redact != nil && redact[i] {
			e.argv = append(e.argv, "(redacted)")
			continue
		}
		if i == slowlogMaxArgc-1 && len(argv) > slowlogMaxArgc {
			e.argv = append(e.argv, fmt.Sprintf("... (%d more arguments)", len(argv)-slowlogMaxArgc+1))
			break
		}
		a := argv[i]
		if len(a) > slowlogMaxArg {
			e.argv = append(e.argv, fmt.Sprintf("%s... (%d more bytes)", a[:slowlogMaxArg], len(a)-slowlogMaxArg))
		} else {
			e.argv = append(e.argv, string(a))
		}
	}
	s.slowlog = append([]slowlogEntry{e}, s.slowlog...)
	if int64(len(s.slowlog)) > s.cfg.SlowlogMaxLen {
		s.slowlog = s.slowlog[:s.cfg.SlowlogMaxLen]
	}
}

// unknownSubcommand is Redis's addReplySubcommandSyntaxError, for a known
// subcommand with bad arguments (unknown ones are rejected in process).
func unknownSubcommand(c *client, argv [][]byte) {
	c.addError(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.", argv[1], strings.ToUpper(string(argv[0]))))
}

func slowlogCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	switch {
	case sub == "len" && len(argv) == 2:
		c.addInt(int64(len(s.slowlog)))
	case sub == "reset" && len(argv) == 2:
		s.slowlog = nil
		c.addOK()
	case sub == "get" && len(argv) <= 3:
		count := int64(10)
		if len(argv) == 3 {
			n, ok := parseInt64(argv[2])
			if !ok || n < -1 {
				c.addError("ERR count should be greater than or equal to -1")
				return
			}
			if n == -1 {
				n = int64(len(s.slowlog))
			}
			count = n
		}
		n := min(int(count), len(s.slowlog))
		c.addArrayLen(n)
		for _, e := range s.slowlog[:n] {
			c.addArrayLen(6)
			c.addInt(e.id)
			c.addInt(e.time)
			c.addInt(e.duration)
			c.addBulkStrings(e.argv)
			c.addBulkString(e.addr)
			c.addBulkString(e.name)
		}
	case sub == "help" && len(argv) == 2:
		c.addHelp([]string{"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET [<count>]",
			"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
			"    Entries are made of:",
			"    id, timestamp, time in microseconds, arguments array, client IP and port,",
			"    client name",
			"LEN", "    Return the length of the slowlog.", "RESET", "    Reset the slowlog.", "HELP", "    Prints this help."})
	default:
		unknownSubcommand(c, argv)
	}
}

// CONFIG.

func (s *Server) configParams() []string {
	names := []string{"bind", "save", "replicaof", "slaveof"}
	for _, d := range s.cfg.directives() {
		names = append(names, d.name)
	}
	for k := range harmlessDirectives {
		names = append(names, k)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (s *Server) configGet(name string) string {
	cfg := s.cfg
	switch name {
	case "bind":
		return strings.Join(cfg.Bind, " ")
	case "save":
		return cfg.Save
	case "client-output-buffer-limit":
		m, err := parseOutputLimits(cfg.extra[name], defaultOutputLimits)
		if err != nil {
			m = defaultOutputLimits
		}
		return formatOutputLimits(m)
	case "replicaof", "slaveof":
		if cfg.ReplicaOfHost == "" {
			return ""
		}
		return fmt.Sprintf("%s %d", cfg.ReplicaOfHost, cfg.ReplicaOfPort)
	}
	if d, ok := cfg.find(name); ok {
		return d.get()
	}
	if v, ok := cfg.extra[name]; ok {
		return v
	}
	return harmlessDirectives[name]
}

func configCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	switch sub {
	case "get":
		if len(argv) < 3 {
			c.addError(errWrongArgs("config|get"))
			return
		}
		var out []string
		seen := map[string]bool{}
		for _, pat := range argv[2:] {
			for _, name := range s.configParams() {
				if !seen[name] && globMatch(pat, []byte(name), true) {
					seen[name] = true
					out = append(out, name, s.configGet(name))
				}
			}
		}
		c.addBulkStrings(out)
	case "set":
		if len(argv)%2 != 0 {
			c.addError(errSyntax)
			return
		}
		s.configSet(c, argv[2:])
	case "resetstat":
		if len(argv) != 2 {
			c.addError(errWrongArgs("config|resetstat"))
			return
		}
		s.resetStats()
		c.addOK()
	case "rewrite":
		if len(argv) != 2 {
			c.addError(errWrongArgs("config|rewrite"))
			return
		}
		if err := s.configRewrite(); err != nil {
			c.addError("ERR " + err.Error())
			return
		}
		c.addOK()
	case "help":
		c.addHelp([]string{"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.",
			"REWRITE", "    Rewrite the configuration file.", "HELP", "    Prints this help."})
	default:
		unknownSubcommand(c, argv)
	}
}

// configSet applies name/value pairs atomically: all are validated on a copy
// first.
func (s *Server) configSet(c *client, pairs [][]byte) {
	tmp := *s.cfg
	tmp.extra = make(map[string]string, len(s.cfg.extra))
	for k, v := range s.cfg.extra {
		tmp.extra[k] = v
	}
	tmp.saveFromFile = false
	for i := 0; i < len(pairs); i += 2 {
		name := strings.ToLower(string(pairs[i]))
		if a, ok := aliases[name]; ok {
			name = a
		}
		val := string(pairs[i+1])
		d, known := tmp.find(name)
		_, harmless := harmlessDirectives[name]
		if !known && !harmless && name != "save" && name != "bind" && name != "replicaof" {
			c.addError(fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", pairs[i]))
			return
		}
		fail := func(msg string) {
			c.addError(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", pairs[i], msg))
		}
		if (known && d.immutable) || name == "replicaof" {
			fail("can't set immutable config")
			return
		}
		if name == "dir" || name == "dbfilename" {
			if !s.protectedConfigAllowed(c) {
				fail("can't set protected config")
				return
			}
			if name == "dir" {
				dir, err := s.checkDirValue(string(pairs[i+1]))
				if err != nil {
					fail(err.Error())
					return
				}
				pairs[i+1] = []byte(dir)
			}
		}
		if name == "client-output-buffer-limit" {
			v, err := mergeOutputLimits(tmp.extra[name], val)
			if err != nil {
				fail(err.Error())
				return
			}
			tmp.extra[name] = v
			continue
		}
		var args []string
		if name == "save" || name == "bind" {
			argvv, ok := splitConfigValue(val)
			if !ok {
				fail("Invalid arguments")
				return
			}
			args = argvv
			if name == "save" && len(args) == 0 {
				args = []string{""}
			}
		} else {
			args = []string{val}
		}
		if err := tmp.apply(name, args); err != nil {
			fail(err.Error())
			return
		}
	}
	*s.cfg = tmp
	s.applyConfig()
	c.addOK()
}

func splitConfigValue(v string) ([]string, bool) {
	return strings.Fields(v), true
}

func (s *Server) resetStats() {
	s.st.hits, s.st.misses, s.st.expiredKeys, s.st.evictedKeys = 0, 0, 0, 0
	s.st.numCommands, s.st.errorReplies = 0, 0
	s.st.numConnections.Store(0)
	s.st.rejectedConns.Store(0)
	s.st.netIn, s.st.netOut = 0, 0
	s.st.netOutPush.Store(0)
	s.intro.cmdstats, s.intro.errstats, s.intro.byID = nil, nil, nil
}

// CLIENT.

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// clientsSnapshot returns the connected clients by id. A killed client
// is left out at once, as Redis frees it at once: its goroutine may not
// have unregistered it yet.
func (s *Server) clientsSnapshot() []*client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		if !c.killed.Load() {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *client) int { return int(a.id - b.id) })
	return out
}

// clientType is the class CLIENT LIST/KILL TYPE match and the output
// buffer limits apply to (mu held).
func (c *client) clientType() string {
	if c.isMaster() {
		return "master"
	}
	if c.replicaOf() != nil {
		return "replica"
	}
	if c.subscribed() {
		return "pubsub"
	}
	return "normal"
}

// blockedOnKeys reports whether c waits in a blocking command (mu held).
func (c *client) blockedOnKeys() bool {
	st := c.s.ks.blk
	if st == nil {
		return false
	}
	for _, ws := range st.waiters {
		for _, w := range ws {
			if w.c == c {
				return true
			}
		}
	}
	return false
}

// connFD returns the socket's file descriptor, or -1.
func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// info is the client's CLIENT LIST line (mu held). self is the client
// running the command: its input buffer and current arguments are only
// readable from its own goroutine.
func (c *client) info(self *client) string {
	now := time.Now()
	typ := c.clientType()
	var fl []byte
	switch typ {
	case "replica":
		fl = append(fl, 'S')
	case "master":
		fl = append(fl, 'M')
	}
	if c.monitor {
		fl = append(fl, 'O')
	}
	if c.subscribed() {
		fl = append(fl, 'P')
	}
	if c.inMulti {
		fl = append(fl, 'x')
	}
	if c.pauseBlocked.Load() || c.blockedOnKeys() {
		fl = append(fl, 'b')
	}
	if c.dirtyCAS {
		fl = append(fl, 'd')
	}
	if c.closeAfterReply {
		fl = append(fl, 'c')
	}
	if c.killed.Load() {
		fl = append(fl, 'A')
	}
	if c.noEvict {
		fl = append(fl, 'e')
	}
	if len(fl) == 0 {
		fl = append(fl, 'N')
	}
	multi, multiMem := -1, 0
	if c.inMulti {
		multi = len(c.queue)
		for _, q := range c.queue { // as Redis: argument bytes and pointers
			multiMem += 8 * len(q)
			for _, a := range q {
				multiMem += len(a)
			}
		}
	}
	cmd := c.lastCmd
	if cmd == "" {
		cmd = "NULL"
	}
	qbuf, qfree, argvMem := 0, 0, 0
	if c == self {
		cmd = self.curCmdName
		// As Redis 7.0, the query buffer still holds the running request.
		qbuf = c.p.Buffered() + len(strconv.Itoa(len(c.curArgv))) + 3
		for _, a := range c.curArgv {
			argvMem += len(a)
			qbuf += len(strconv.Itoa(len(a))) + 5 + len(a)
		}
		qfree = max(0, 20474-qbuf)
	}
	var obl, oll, omem int
	if c.push != nil {
		c.push.mu.Lock()
		omem = len(c.push.buf) + c.push.inflight
		c.push.mu.Unlock()
		if omem > 0 {
			oll = (omem + 16383) / 16384
		}
	}
	const rbs = 16384
	totMem := rbs + qbuf + qfree + argvMem + multiMem + omem + 4096
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=%d obl=%d oll=%d omem=%d tot-mem=%d events=r cmd=%s user=default redir=-1 resp=%d",
		c.id, c.addr, c.laddr, connFD(c.conn), c.name, int64(now.Sub(c.ctime).Seconds()),
		(now.UnixNano()-c.lastInteraction.Load())/1e9, fl, c.db.id,
		len(c.subs.channels), len(c.subs.patterns), len(c.subs.shard), multi,
		qbuf, qfree, argvMem, multiMem, rbs, rbs, obl, oll, omem, totMem, cmd, c.resp)
}

var clientHelp = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"HELP",
	"    Prints this help.",
}

func clientCommand(c *client, argv [][]byte) {
	sub := strings.ToLower(string(argv[1]))
	c.curCmdName = "client|" + sub
	switch {
	case sub == "id" && len(argv) == 2:
		c.addInt(c.id)
	case sub == "getname" && len(argv) == 2:
		if c.name == "" {
			c.addNull()
		} else {
			c.addBulkString(c.name)
		}
	case sub == "setname" && len(argv) == 3:
		if !validClientName(argv[2]) {
			c.addError(errClientName)
			return
		}
		c.name = string(argv[2])
		c.addOK()
	case sub == "info" && len(argv) == 2:
		c.addBulkString(c.info(c) + "\n")
	case sub == "list":
		c.clientList(argv)
	case sub == "kill":
		c.clientKill(argv)
	case sub == "pause" && (len(argv) == 3 || len(argv) == 4):
		c.clientPause(argv)
	case sub == "unpause" && len(argv) == 2:
		c.s.unpauseClients()
		c.addOK()
	case sub == "no-evict" && len(argv) == 3:
		switch strings.ToLower(string(argv[2])) {
		case "on":
			c.noEvict = true
		case "off":
			c.noEvict = false
		default:
			c.addError(errSyntax)
			return
		}
		c.addOK()
	case sub == "reply" && len(argv) == 3:
		switch strings.ToLower(string(argv[2])) {
		case "on":
			c.replyOff, c.replySkipNext = false, false
			c.addOK()
		case "off":
			c.replyOff = true
		case "skip":
			if !c.replyOff {
				c.replySkipNext = true
			}
		default:
			c.addError(errSyntax)
		}
	case sub == "getredir" && len(argv) == 2:
		c.addInt(-1)
	case sub == "unblock" && (len(argv) == 3 || len(argv) == 4):
		if _, ok := parseInt64(argv[2]); !ok {
			c.addError(errNotInt)
			return
		}
		if len(argv) == 4 && !eqFold(argv[3], "timeout") && !eqFold(argv[3], "error") {
			c.addError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
		c.addInt(0) // blocked clients are not unblockable yet
	case sub == "tracking" || sub == "caching" || sub == "trackinginfo":
		c.addError("ERR CLIENT " + strings.ToUpper(sub) + " is not supported by codis-server")
	case sub == "help" && len(argv) == 2:
		c.addHelp(clientHelp)
	default:
		unknownSubcommand(c, argv)
	}
}

func (c *client) clientList(argv [][]byte) {
	var ids map[int64]bool
	typ := ""
	for i := 2; i < len(argv); i++ {
		opt := strings.ToLower(string(argv[i]))
		switch {
		case opt == "type" && i+1 < len(argv):
			typ = strings.ToLower(string(argv[i+1]))
			if typ == "slave" {
				typ = "replica"
			}
			switch typ {
			case "normal", "master", "replica", "pubsub":
			default:
				c.addError(fmt.Sprintf("ERR Unknown client type '%s'", argv[i+1]))
				return
			}
			i++
		case opt == "id" && i+1 < len(argv):
			ids = map[int64]bool{}
			for i++; i < len(argv); i++ {
				n, ok := parseInt64(argv[i])
				if !ok {
					c.addError("ERR Invalid client ID")
					return
				}
				ids[n] = true
			}
		default:
			c.addError(errSyntax)
			return
		}
	}
	var sb strings.Builder
	for _, o := range c.s.clientsSnapshot() {
		if ids != nil && !ids[o.id] {
			continue
		}
		if typ != "" && typ != o.clientType() {
			continue
		}
		sb.WriteString(o.info(c))
		sb.WriteByte('\n')
	}
	c.addBulkString(sb.String())
}

// clientKill is CLIENT KILL in its old form (ip:port, reply OK or "No such
// client") and its filter form (reply the number of clients killed).
func (c *client) clientKill(argv [][]byte) {
	var addr, laddr, user string
	var id int64
	typ := ""
	skipme := true
	legacy := len(argv) == 3
	if legacy {
		addr = string(argv[2])
		skipme = false
	} else {
		if len(argv)%2 != 0 {
			c.addError(errSyntax)
			return
		}
		for i := 2; i < len(argv); i += 2 {
			v := string(argv[i+1])
			switch strings.ToLower(string(argv[i])) {
			case "id":
				n, ok := parseInt64(argv[i+1])
				if !ok || n <= 0 {
					c.addError("ERR client-id should be greater than 0")
					return
				}
				id = n
			case "addr":
				addr = v
			case "laddr":
				laddr = v
			case "type":
				typ = strings.ToLower(v)
				if typ == "slave" {
					typ = "replica"
				}
				switch typ {
				case "normal", "master", "replica", "pubsub":
				default:
					c.addError(fmt.Sprintf("ERR Unknown client type '%s'", v))
					return
				}
			case "user":
				if v != "default" {
					c.addError(fmt.Sprintf("ERR No such user '%s'", v))
					return
				}
				user = v
			case "skipme":
				switch strings.ToLower(v) {
				case "yes":
					skipme = true
				case "no":
					skipme = false
				default:
					c.addError(errSyntax)
					return
				}
			default: // MAXAGE too: it came with Redis 7.2; 7.0 answers a syntax error
				c.addError(errSyntax)
				return
			}
		}
	}
	_ = user // every client is the default user
	killed := 0
	for _, o := range c.s.clientsSnapshot() {
		if (addr != "" && o.addr != addr) || (laddr != "" && o.laddr != laddr) || (id != 0 && o.id != id) ||
			(typ != "" && typ != o.clientType()) {
			continue
		}
		if o == c && skipme {
			continue
		}
		if o == c {
			c.closeAfterReply = true
		} else {
			o.closeAsync()
		}
		killed++
	}
	if legacy {
		if killed == 0 {
			c.addError("ERR No such client")
			return
		}
		c.addOK()
		return
	}
	c.addInt(int64(killed))
}

// Client pause (CLIENT PAUSE/UNPAUSE): affected commands wait, outside
// Server.mu, until the pause ends; replicas and the master link are never
// paused. WRITE pauses the commands that may replicate: writes, EVAL and
// EVALSHA (not their _RO forms), PUBLISH, SPUBLISH, PFCOUNT and EXEC of a
// transaction holding one of those.

func (c *client) clientPause(argv [][]byte) {
	ms, ok := parseInt64(argv[2])
	if !ok {
		c.addError("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return
	}
	all := true
	if len(argv) == 4 {
		switch strings.ToLower(string(argv[3])) {
		case "write":
			all = false
		case "all":
		default:
			c.addError("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	s := c.s
	p := &s.intro
	end := time.Now().Add(time.Duration(ms) * time.Millisecond)
	if p.pauseCh == nil || !time.Now().Before(p.pauseEnd) {
		p.pauseCh = make(chan struct{})
		p.pauseEnd, p.pauseAll = end, all
	} else {
		// As Redis: the more restrictive mode and the later end win.
		p.pauseAll = p.pauseAll || all
		if end.After(p.pauseEnd) {
			p.pauseEnd = end
		}
	}
	c.addOK()
}

// clientsPaused reports whether a CLIENT PAUSE is in effect (mu held).
func (s *Server) clientsPaused() bool {
	return s.intro.pauseCh != nil && time.Now().Before(s.intro.pauseEnd)
}

func (s *Server) unpauseClients() {
	p := &s.intro
	if p.pauseCh != nil {
		close(p.pauseCh)
		p.pauseCh = nil
	}
	p.pauseEnd = time.Time{}
}

// mayReplicate reports whether argv runs a command WRITE pauses.
func (c *client) mayReplicate(cmd *Command) bool {
	if cmd.Flags&FlagWrite != 0 {
		return true
	}
	switch cmd.Name {
	case "eval", "evalsha", "fcall", "publish", "spublish", "pfcount":
		return true
	case "exec":
		for _, q := range c.queue {
			if qc := lookupCommand(q[0]); qc != nil && qc != cmd && c.mayReplicate(qc) {
				return true
			}
		}
	}
	return false
}

// pausedFor reports whether c must wait before running cmd (mu held).
func (c *client) pausedFor(cmd *Command) bool {
	p := &c.s.intro
	if p.pauseCh == nil {
		return false
	}
	if !time.Now().Before(p.pauseEnd) {
		close(p.pauseCh)
		p.pauseCh = nil
		return false
	}
	if c.isMaster() || c.replicaOf() != nil || c.conn == nil {
		return false
	}
	return p.pauseAll || c.mayReplicate(cmd)
}

// waitPause, called by process with mu held, waits while c is paused for
// cmd, without the lock. It returns true when it waited: process then
// starts over, checking everything again.
func (c *client) waitPause(cmd *Command) bool {
	s := c.s
	if !c.pausedFor(cmd) {
		return false
	}
	c.pauseBlocked.Store(true)
	for c.pausedFor(cmd) {
		ch, end := s.intro.pauseCh, s.intro.pauseEnd
		s.mu.Unlock()
		t := time.NewTimer(time.Until(end))
		select {
		case <-ch:
		case <-t.C:
		case <-s.quit:
		}
		t.Stop()
		s.lockKeyspace()
		select {
		case <-s.quit:
			c.pauseBlocked.Store(false)
			return true
		default:
		}
	}
	c.pauseBlocked.Store(false)
	return true
}

// processRequest runs one request for the serve loop: process, with
// CLIENT REPLY OFF/SKIP applied and the normal class output buffer limit
// enforced.
func (c *client) processRequest(argv [][]byte) {
	mark := len(c.out)
	skip := c.replySkipNext
	c.replySkipNext = false
	c.curArgv = argv
	c.process(argv)
	c.curArgv = nil
	if (skip || c.replyOff) && len(c.out) >= mark {
		c.out = c.out[:mark] // (a blocking command may have flushed c.out meanwhile)
	}
	if c.push == nil && len(c.out) > mark {
		// Subscribers (c.push set) are checked as they are queued
		// (pubsub.go); the master link and replicas do not come here.
		if l := c.s.outputLimits("normal"); l.hard > 0 || l.soft > 0 {
			c.checkOutputLimit(l, int64(len(c.out)))
		}
	}
}

// Output buffer limits (client-output-buffer-limit).

type outputLimit struct {
	hard, soft int64
	softSecs   int64
}

// outputLimitClasses is the order CONFIG GET prints the classes in.
var outputLimitClasses = []string{"normal", "slave", "pubsub"}

var defaultOutputLimits = map[string]outputLimit{
	"normal": {}, "slave": {256 << 20, 64 << 20, 60}, "pubsub": {32 << 20, 8 << 20, 60},
}

// parseOutputLimits parses "class hard soft seconds ..." over base.
func parseOutputLimits(v string, base map[string]outputLimit) (map[string]outputLimit, error) {
	out := maps.Clone(base)
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return nil, errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		if class == "replica" {
			class = "slave"
		}
		if _, ok := out[class]; !ok {
			return nil, errors.New("Invalid client class specified in buffer limit configuration.")
		}
		h, ok1 := parseMemory(f[i+1])
		so, ok2 := parseMemory(f[i+2])
		sec, err := strconv.ParseInt(f[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || h < 0 || so < 0 || sec < 0 {
			return nil, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		out[class] = outputLimit{h, so, sec}
	}
	return out, nil
}

// mergeOutputLimits applies a client-output-buffer-limit value (some
// classes) over the current one and returns the normalized full setting.
func mergeOutputLimits(cur, v string) (string, error) {
	base, err := parseOutputLimits(cur, defaultOutputLimits)
	if err != nil {
		base = defaultOutputLimits
	}
	m, err := parseOutputLimits(v, base)
	if err != nil {
		return "", err
	}
	return formatOutputLimits(m), nil
}

func formatOutputLimits(m map[string]outputLimit) string {
	var parts []string
	for _, class := range outputLimitClasses {
		l := m[class]
		parts = append(parts, fmt.Sprintf("%s %d %d %d", class, l.hard, l.soft, l.softSecs))
	}
	return strings.Join(parts, " ")
}

// outputLimits returns the limits of a class: "normal", "replica" or
// "pubsub" (mu held).
func (s *Server) outputLimits(class string) outputLimit {
	if class == "replica" {
		class = "slave"
	}
	raw := s.cfg.extra["client-output-buffer-limit"]
	if s.intro.obl == nil || s.intro.oblRaw != raw {
		m, err := parseOutputLimits(raw, defaultOutputLimits)
		if err != nil {
			m = defaultOutputLimits
		}
		s.intro.obl, s.intro.oblRaw = m, raw
	}
	return s.intro.obl[class]
}

// checkOutputLimit closes c when n pending output bytes exceed its
// class's hard limit, or its soft limit for longer than the soft seconds
// (mu held). It returns true when c is being closed.
func (c *client) checkOutputLimit(l outputLimit, n int64) bool {
	over := l.hard > 0 && n > l.hard
	if l.soft > 0 && n > l.soft {
		now := time.Now()
		if c.softLimitSince.IsZero() {
			c.softLimitSince = now
		} else if now.Sub(c.softLimitSince) > time.Duration(l.softSecs)*time.Second {
			over = true
		}
	} else {
		c.softLimitSince = time.Time{}
	}
	if over {
		c.s.log.Warn(fmt.Sprintf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", c.infoBrief()))
		c.out = c.out[:0]
		c.closeAfterReply = true
		c.closeAsync()
	}
	return over
}

// infoBrief names a client in log lines.
func (c *client) infoBrief() string {
	return fmt.Sprintf("id=%d addr=%s laddr=%s name=%s", c.id, c.addr, c.laddr, c.name)
}

// COMMAND.

// cmdMeta is what COMMAND INFO and COMMAND DOCS report beyond the command
// table: ACL categories, tips, key-spec flags (one "|"-separated group per
// key spec), documentation group and version, and for subcommands their
// own arity, flags and key range. The values were read from redis-server
// 7.0 (COMMAND INFO/DOCS) for the commands we implement.
type cmdMeta struct {
	cats, tips, specFlags, group, since string
	sub                                 bool
	flags                               string
	arity, first, last, step            int
}

// addCommandInfo replies one command's COMMAND INFO entry.
func (c *client) addCommandInfo(cmd *Command) {
	m, known := commandMeta[cmd.Name]
	fl := cmd.flagList()
	spec := cmd
	if known {
		// Redis's flags and legacy key range: containers have none (their
		// subcommands do), "random" became the nondeterministic_output
		// tip, and flags we do not act on (allow_busy, blocking, ...) are
		// reported all the same.
		fl = strings.Fields(m.flags)
		spec = &Command{FirstKey: m.first, LastKey: m.last, Step: m.step, KeysFn: cmd.KeysFn}
		if m.first == 0 && m.specFlags == "" {
			spec = &Command{}
		}
	}
	c.addArrayLen(10)
	c.addBulkString(cmd.Name)
	c.addInt(int64(cmd.Arity))
	c.addArrayLen(len(fl))
	for _, f := range fl {
		c.addSimple(f)
	}
	c.addInt(int64(spec.FirstKey))
	c.addInt(int64(spec.LastKey))
	c.addInt(int64(spec.Step))
	c.addCategories(aclCategories(cmd, m))
	c.addTips(m.tips)
	c.addKeySpecs(spec, m.specFlags)
	subs := sortedSubs(cmd)
	c.addArrayLen(len(subs))
	for _, sub := range subs {
		full := cmd.Name + "|" + sub
		sm, ok := commandMeta[full]
		if !ok {
			sm = cmdMeta{cats: m.cats, arity: cmd.Subs[sub], flags: strings.Join(cmd.flagList(), " ")}
		}
		c.addArrayLen(10)
		c.addBulkString(full)
		c.addInt(int64(cmd.Subs[sub]))
		sfl := strings.Fields(sm.flags)
		c.addArrayLen(len(sfl))
		for _, f := range sfl {
			c.addSimple(f)
		}
		c.addInt(int64(sm.first))
		c.addInt(int64(sm.last))
		c.addInt(int64(sm.step))
		cats := strings.Fields(sm.cats)
		for i := range cats {
			cats[i] = "@" + cats[i]
		}
		c.addCategories(cats)
		c.addTips(sm.tips)
		if sm.first > 0 {
			c.addKeySpecs(&Command{FirstKey: sm.first, LastKey: sm.last, Step: sm.step}, sm.specFlags)
		} else {
			c.addArrayLen(0)
		}
		c.addArrayLen(0)
	}
}

func sortedSubs(cmd *Command) []string {
	return sortedKeys(cmd.Subs)
}

func (c *client) addCategories(cats []string) {
	c.addArrayLen(len(cats))
	for _, cat := range cats {
		c.addSimple(cat)
	}
}

func (c *client) addTips(tips string) {
	t := strings.Fields(tips)
	c.addArrayLen(len(t))
	for _, x := range t {
		c.addBulkString(x)
	}
}

// addKeySpecs replies the key specs: one range spec from the legacy key
// range, or an "unknown" one for commands finding their keys themselves
// (numkeys, STORE options, ...), with the flags of Redis's first spec.
func (c *client) addKeySpecs(cmd *Command, specFlags string) {
	if !cmd.hasKeys() {
		c.addArrayLen(0)
		return
	}
	flags := strings.Split(strings.SplitN(specFlags, "|", 2)[0], ",")
	if flags[0] == "" {
		flags = nil
	}
	c.addArrayLen(1)
	c.addArrayLen(6)
	c.addBulkString("flags")
	c.addArrayLen(len(flags))
	for _, f := range flags {
		c.addSimple(f)
	}
	c.addBulkString("begin_search")
	if cmd.KeysFn != nil || cmd.FirstKey == 0 {
		c.addArrayLen(4)
		c.addBulkString("type")
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addArrayLen(0)
		c.addBulkString("find_keys")
		c.addArrayLen(4)
		c.addBulkString("type")
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addArrayLen(0)
		return
	}
	c.addArrayLen(4)
	c.addBulkString("type")
	c.addBulkString("index")
	c.addBulkString("spec")
	c.addArrayLen(2)
	c.addBulkString("index")
	c.addInt(int64(cmd.FirstKey))
	c.addBulkString("find_keys")
	c.addArrayLen(4)
	c.addBulkString("type")
	c.addBulkString("range")
	c.addBulkString("spec")
	c.addArrayLen(6)
	last := cmd.LastKey
	if last >= 0 {
		last -= cmd.FirstKey
	}
	c.addBulkString("lastkey")
	c.addInt(int64(last))
	c.addBulkString("keystep")
	c.addInt(int64(max(cmd.Step, 1)))
	c.addBulkString("limit")
	c.addInt(0)
}

// addCommandDocs replies one command's COMMAND DOCS map (RESP2: a flat
// array): summary, since, group and, for containers, the subcommands.
func (c *client) addCommandDocs(cmd *Command) {
	m := commandMeta[cmd.Name]
	subs := sortedSubs(cmd)
	n := 3
	if len(subs) > 0 {
		n++
	}
	c.addArrayLen(2 * n)
	c.addBulkString("summary")
	c.addBulkString(strings.ToUpper(cmd.Name) + " command")
	c.addBulkString("since")
	c.addBulkString(cmp.Or(m.since, "1.0.0"))
	c.addBulkString("group")
	c.addBulkString(commandGroup(cmd))
	if len(subs) == 0 {
		return
	}
	c.addBulkString("subcommands")
	c.addArrayLen(2 * len(subs))
	for _, sub := range subs {
		full := cmd.Name + "|" + sub
		sm := commandMeta[full]
		c.addBulkString(full)
		c.addArrayLen(6)
		c.addBulkString("summary")
		c.addBulkString(strings.ToUpper(cmd.Name+" "+sub) + " subcommand")
		c.addBulkString("since")
		c.addBulkString(cmp.Or(sm.since, m.since, "1.0.0"))
		c.addBulkString("group")
		c.addBulkString(cmp.Or(sm.group, commandGroup(cmd)))
	}
}

func sortedCommands() []*Command {
	out := make([]*Command, 0, len(commands))
	for _, cmd := range commands {
		out = append(out, cmd)
	}
	slices.SortFunc(out, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	return out
}

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

func commandCommand(c *client, argv [][]byte) {
	if len(argv) == 1 {
		all := sortedCommands()
		c.addArrayLen(len(all))
		for _, cmd := range all {
			c.addCommandInfo(cmd)
		}
		return
	}
	sub := strings.ToLower(string(argv[1]))
	switch {
	case sub == "count" && len(argv) == 2:
		c.addInt(int64(len(commands)))
	case sub == "info":
		names := argv[2:]
		if len(names) == 0 {
			all := sortedCommands()
			c.addArrayLen(len(all))
			for _, cmd := range all {
				c.addCommandInfo(cmd)
			}
			return
		}
		c.addArrayLen(len(names))
		for _, n := range names {
			if cmd := lookupCommand(n); cmd != nil {
				c.addCommandInfo(cmd)
			} else {
				c.addNull()
			}
		}
	case sub == "docs":
		var list []*Command
		if len(argv) == 2 {
			list = sortedCommands()
		} else {
			for _, n := range argv[2:] {
				if cmd := lookupCommand(n); cmd != nil {
					list = append(list, cmd)
				}
			}
		}
		c.addArrayLen(2 * len(list))
		for _, cmd := range list {
			c.addBulkString(cmd.Name)
			c.addCommandDocs(cmd)
		}
	case sub == "list":
		filter := func(*Command) bool { return true }
		if len(argv) > 2 {
			if len(argv) != 5 || !eqFold(argv[2], "filterby") {
				c.addError(errSyntax)
				return
			}
			arg := argv[4]
			switch strings.ToLower(string(argv[3])) {
			case "pattern":
				filter = func(cmd *Command) bool { return globMatch(arg, []byte(cmd.Name), true) }
			case "aclcat":
				cat := "@" + strings.ToLower(string(arg))
				filter = func(cmd *Command) bool {
					return slices.Contains(aclCategories(cmd, commandMeta[cmd.Name]), cat)
				}
			case "module":
				filter = func(*Command) bool { return false }
			default:
				c.addError(errSyntax)
				return
			}
		}
		var names []string
		for _, cmd := range sortedCommands() {
			if filter(cmd) {
				names = append(names, cmd.Name)
			}
		}
		c.addBulkStrings(names)
	case (sub == "getkeys" || sub == "getkeysandflags") && len(argv) < 4:
		c.addError(errWrongArgs("command|" + sub))
	case sub == "getkeys" || sub == "getkeysandflags":
		cmd := lookupCommand(argv[2])
		if cmd == nil {
			c.addError("ERR Invalid command specified")
			return
		}
		args := argv[2:]
		if !cmd.hasKeys() {
			c.addError("ERR The command has no key arguments")
			return
		}
		if (cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity {
			c.addError("ERR Invalid number of arguments specified for command")
			return
		}
		keys := cmd.keys(args)
		if len(keys) == 0 {
			if cmd.NoMandatoryKeys {
				c.addArrayLen(0)
			} else {
				c.addError("ERR Invalid arguments specified for command")
			}
			return
		}
		c.addArrayLen(len(keys))
		if sub == "getkeys" {
			for _, k := range keys {
				c.addBulk(k)
			}
			return
		}
		// Key-spec flags: per key when the command has one spec per key,
		// else the first spec's (variable flags left unresolved).
		groups := strings.Split(commandMeta[cmd.Name].specFlags, "|")
		for i, k := range keys {
			g := groups[0]
			if len(groups) == len(keys) {
				g = groups[i]
			}
			var fl []string
			for _, f := range strings.Split(g, ",") {
				if f != "" && f != "variable_flags" {
					fl = append(fl, f)
				}
			}
			c.addArrayLen(2)
			c.addBulk(k)
			c.addArrayLen(len(fl))
			for _, f := range fl {
				c.addSimple(f)
			}
		}
	case sub == "help" && len(argv) == 2:
		c.addHelp(commandHelp)
	default:
		unknownSubcommand(c, argv)
	}
}

// aclCategories returns the command's ACL categories: Redis's when known,
// else derived from the flags.
func aclCategories(cmd *Command, m cmdMeta) []string {
	if m.cats != "" {
		out := strings.Fields(m.cats)
		for i := range out {
			out[i] = "@" + out[i]
		}
		return out
	}
	var out []string
	if cmd.Flags&FlagWrite != 0 {
		out = append(out, "@write")
	}
	if cmd.Flags&FlagReadOnly != 0 {
		out = append(out, "@read")
	}
	if cmd.Flags&FlagAdmin != 0 {
		out = append(out, "@admin")
	}
	if cmd.Flags&FlagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if cmd.Flags&FlagAdmin != 0 {
		out = append(out, "@dangerous")
	}
	return out
}

func commandGroup(cmd *Command) string {
	if g := commandMeta[cmd.Name].group; g != "" {
		return g
	}
	switch {
	case strings.HasPrefix(cmd.Name, "slots"):
		return "codis"
	case cmd.Flags&FlagAdmin != 0:
		return "server"
	}
	return "generic"
}

// Introspection state: command and error statistics, client pause and
// the latency monitor (t_latency.go). Guarded by Server.mu.
type introState struct {
	cmdstats map[string]*cmdStat // by full name ("get", "client|list")
	byID     []*cmdStat          // the same, by Command.id, for commands without subcommands
	latency0 int64               // latency-monitor-threshold in ms (applyConfig)
	errstats map[string]int64    // by error code ("ERR", "WRONGTYPE")

	pauseCh  chan struct{} // closed when the pause ends early; nil = no pause
	pauseEnd time.Time
	pauseAll bool // ALL rather than WRITE

	latency map[string]*latencySeries // latency monitor events

	oblRaw string                 // client-output-buffer-limit parsed into obl
	obl    map[string]outputLimit // by class
}

// cmdStat is one INFO commandstats line.
type cmdStat struct {
	calls, usec, rejected, failed int64
	hist                          [41]int64 // calls by histBucket of their µs (LATENCY HISTOGRAM, latencystats)
}

// statName is the name a command's stats are kept under: the container
// and the subcommand for CONFIG, CLIENT, ... ("" for an unknown
// subcommand, which Redis does not count).
func statName(cmd *Command, argv [][]byte) string {
	if cmd.Subs == nil || len(argv) < 2 {
		return cmd.Name
	}
	sub := strings.ToLower(string(argv[1]))
	if _, ok := cmd.Subs[sub]; !ok {
		return ""
	}
	return cmd.Name + "|" + sub
}

func (s *Server) cmdStat(name string) *cmdStat {
	st := s.intro.cmdstats[name]
	if st == nil {
		if s.intro.cmdstats == nil {
			s.intro.cmdstats = map[string]*cmdStat{}
		}
		st = &cmdStat{}
		s.intro.cmdstats[name] = st
	}
	return st
}

// recordCall accounts an executed command (mu held): calls, time, failed
// calls (it replied an error: the error counter moved past errsBefore),
// the latency monitor.
func (s *Server) recordCall(c *client, cmd *Command, argv [][]byte, d time.Duration, errsBefore int64) {
	var st *cmdStat
	name := cmd.Name
	if cmd.Subs == nil {
		// The common case, without hashing the name on every call.
		if cmd.id < len(s.intro.byID) {
			st = s.intro.byID[cmd.id]
		}
		if st == nil {
			st = s.cmdStat(name)
			if len(s.intro.byID) == 0 {
				s.intro.byID = make([]*cmdStat, len(commands))
			}
			s.intro.byID[cmd.id] = st
		}
	} else {
		if name = statName(cmd, argv); name == "" {
			name = cmd.Name
		}
		st = s.cmdStat(name)
	}
	st.calls++
	st.usec += d.Microseconds()
	st.hist[histBucket(d.Microseconds())]++
	if s.st.errorReplies > errsBefore {
		st.failed++
	}
	if name != cmd.Name && c.lastCmd == cmd.Name {
		c.lastCmd = name
	}
	if th := s.latencyThreshold(); th > 0 && d.Milliseconds() >= th {
		ev := "command"
		if cmd.Flags&FlagFast != 0 {
			ev = "fast-command"
		}
		s.latencyAdd(ev, d.Milliseconds())
	}
}

// cmdRejected counts a command refused before execution (mu held).
func (s *Server) cmdRejected(c *client) {
	if c.cmd == nil {
		return
	}
	if name := statName(c.cmd, c.curArgv); name != "" {
		s.cmdStat(name).rejected++
	}
}

// countError accounts an error reply (mu held): total_error_replies and
// INFO errorstats by code, the error's first word.
func (s *Server) countError(msg string) {
	s.st.errorReplies++
	code, _, _ := strings.Cut(msg, " ")
	if s.intro.errstats == nil {
		s.intro.errstats = map[string]int64{}
	}
	if _, ok := s.intro.errstats[code]; !ok && len(s.intro.errstats) >= 128 {
		return // Redis stops adding codes at 128
	}
	s.intro.errstats[code]++
}

// addHelp replies a HELP text: an array of status lines, as Redis.
func (c *client) addHelp(lines []string) {
	c.addArrayLen(len(lines))
	for _, l := range lines {
		c.addSimple(l)
	}
}

// commandMeta: see cmdMeta.
var commandMeta = map[string]cmdMeta{
	"append":                  {cats: "write string fast", tips: "", specFlags: "RW,insert", group: "string", since: "2.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"auth":                    {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "1.0.0", flags: "noscript loading stale fast no_auth allow_busy", first: 0, last: 0, step: 0},
	"bgrewriteaof":            {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript no_async_loading", first: 0, last: 0, step: 0},
	"bgsave":                  {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript no_async_loading", first: 0, last: 0, step: 0},
	"bitcount":                {cats: "read bitmap slow", tips: "", specFlags: "RO,access", group: "bitmap", since: "2.6.0", flags: "readonly", first: 1, last: 1, step: 1},
	"bitfield":                {cats: "write bitmap slow", tips: "", specFlags: "RW,access,update,variable_flags", group: "bitmap", since: "3.2.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"bitfield_ro":             {cats: "read bitmap fast", tips: "", specFlags: "RO,access", group: "bitmap", since: "6.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"bitop":                   {cats: "write bitmap slow", tips: "", specFlags: "OW,update|RO,access", group: "bitmap", since: "2.6.0", flags: "write denyoom", first: 2, last: -1, step: 1},
	"bitpos":                  {cats: "read bitmap slow", tips: "", specFlags: "RO,access", group: "bitmap", since: "2.8.7", flags: "readonly", first: 1, last: 1, step: 1},
	"blmove":                  {cats: "write list slow blocking", tips: "", specFlags: "RW,access,delete|RW,insert", group: "list", since: "6.2.0", flags: "write denyoom noscript blocking", first: 1, last: 2, step: 1},
	"blmpop":                  {cats: "write list slow blocking", tips: "", specFlags: "RW,access,delete", group: "list", since: "7.0.0", flags: "write blocking movablekeys", first: 0, last: 0, step: 0},
	"blpop":                   {cats: "write list slow blocking", tips: "", specFlags: "RW,access,delete", group: "list", since: "2.0.0", flags: "write noscript blocking", first: 1, last: -2, step: 1},
	"brpop":                   {cats: "write list slow blocking", tips: "", specFlags: "RW,access,delete", group: "list", since: "2.0.0", flags: "write noscript blocking", first: 1, last: -2, step: 1},
	"brpoplpush":              {cats: "write list slow blocking", tips: "", specFlags: "RW,access,delete|RW,insert", group: "list", since: "2.2.0", flags: "write denyoom noscript blocking", first: 1, last: 2, step: 1},
	"bzmpop":                  {cats: "write sortedset slow blocking", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "7.0.0", flags: "write blocking movablekeys", first: 0, last: 0, step: 0},
	"bzpopmax":                {cats: "write sortedset fast blocking", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "5.0.0", flags: "write noscript blocking fast", first: 1, last: -2, step: 1},
	"bzpopmin":                {cats: "write sortedset fast blocking", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "5.0.0", flags: "write noscript blocking fast", first: 1, last: -2, step: 1},
	"client":                  {cats: "slow", tips: "", specFlags: "", group: "connection", since: "2.4.0", flags: "", first: 0, last: 0, step: 0},
	"client|getredir":         {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "6.0.0", sub: true, flags: "noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|getname":          {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "2.6.9", sub: true, flags: "noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|id":               {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "5.0.0", sub: true, flags: "noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|no-evict":         {cats: "admin slow dangerous connection", tips: "", specFlags: "", group: "connection", since: "7.0.0", sub: true, flags: "admin noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"client|unpause":          {cats: "admin slow dangerous connection", tips: "", specFlags: "", group: "connection", since: "6.2.0", sub: true, flags: "admin noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|setname":          {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "2.6.9", sub: true, flags: "noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"client|info":             {cats: "slow connection", tips: "nondeterministic_output", specFlags: "", group: "connection", since: "6.2.0", sub: true, flags: "noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|help":             {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "5.0.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|trackinginfo":     {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "6.2.0", sub: true, flags: "noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"client|caching":          {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "6.0.0", sub: true, flags: "noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"client|list":             {cats: "admin slow dangerous connection", tips: "nondeterministic_output", specFlags: "", group: "connection", since: "2.4.0", sub: true, flags: "admin noscript loading stale", arity: -2, first: 0, last: 0, step: 0},
	"client|kill":             {cats: "admin slow dangerous connection", tips: "", specFlags: "", group: "connection", since: "2.4.0", sub: true, flags: "admin noscript loading stale", arity: -3, first: 0, last: 0, step: 0},
	"client|tracking":         {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "6.0.0", sub: true, flags: "noscript loading stale", arity: -3, first: 0, last: 0, step: 0},
	"client|unblock":          {cats: "admin slow dangerous connection", tips: "", specFlags: "", group: "connection", since: "5.0.0", sub: true, flags: "admin noscript loading stale", arity: -3, first: 0, last: 0, step: 0},
	"client|pause":            {cats: "admin slow dangerous connection", tips: "", specFlags: "", group: "connection", since: "2.9.50", sub: true, flags: "admin noscript loading stale", arity: -3, first: 0, last: 0, step: 0},
	"client|reply":            {cats: "slow connection", tips: "", specFlags: "", group: "connection", since: "3.2.0", sub: true, flags: "noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"command":                 {cats: "slow connection", tips: "nondeterministic_output_order", specFlags: "", group: "server", since: "2.8.13", flags: "loading stale", first: 0, last: 0, step: 0},
	"command|info":            {cats: "slow connection", tips: "nondeterministic_output_order", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "loading stale", arity: -2, first: 0, last: 0, step: 0},
	"command|getkeys":         {cats: "slow connection", tips: "", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "loading stale", arity: -4, first: 0, last: 0, step: 0},
	"command|help":            {cats: "slow connection", tips: "", specFlags: "", group: "server", since: "5.0.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"command|docs":            {cats: "slow connection", tips: "nondeterministic_output_order", specFlags: "", group: "server", since: "7.0.0", sub: true, flags: "loading stale", arity: -2, first: 0, last: 0, step: 0},
	"command|list":            {cats: "slow connection", tips: "nondeterministic_output_order", specFlags: "", group: "server", since: "7.0.0", sub: true, flags: "loading stale", arity: -2, first: 0, last: 0, step: 0},
	"command|count":           {cats: "slow connection", tips: "", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"command|getkeysandflags": {cats: "slow connection", tips: "", specFlags: "", group: "server", since: "7.0.0", sub: true, flags: "loading stale", arity: -4, first: 0, last: 0, step: 0},
	"config":                  {cats: "slow", tips: "", specFlags: "", group: "server", since: "2.0.0", flags: "", first: 0, last: 0, step: 0},
	"config|get":              {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "2.0.0", sub: true, flags: "admin noscript loading stale", arity: -3, first: 0, last: 0, step: 0},
	"config|help":             {cats: "slow", tips: "", specFlags: "", group: "server", since: "5.0.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"config|resetstat":        {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "2.0.0", sub: true, flags: "admin noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"config|rewrite":          {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "2.8.0", sub: true, flags: "admin noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"config|set":              {cats: "admin slow dangerous", tips: "request_policy:all_nodes response_policy:all_succeeded", specFlags: "", group: "server", since: "2.0.0", sub: true, flags: "admin noscript loading stale", arity: -4, first: 0, last: 0, step: 0},
	"copy":                    {cats: "keyspace write slow", tips: "", specFlags: "RO,access|OW,update", group: "generic", since: "6.2.0", flags: "write denyoom", first: 1, last: 2, step: 1},
	"dbsize":                  {cats: "keyspace read fast", tips: "request_policy:all_shards response_policy:agg_sum", specFlags: "", group: "server", since: "1.0.0", flags: "readonly fast", first: 0, last: 0, step: 0},
	"debug":                   {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript loading stale", first: 0, last: 0, step: 0},
	"decr":                    {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"decrby":                  {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"del":                     {cats: "keyspace write slow", tips: "request_policy:multi_shard response_policy:agg_sum", specFlags: "RM,delete", group: "generic", since: "1.0.0", flags: "write", first: 1, last: -1, step: 1},
	"discard":                 {cats: "fast transaction", tips: "", specFlags: "", group: "transactions", since: "2.0.0", flags: "noscript loading stale fast allow_busy", first: 0, last: 0, step: 0},
	"dump":                    {cats: "keyspace read slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "generic", since: "2.6.0", flags: "readonly", first: 1, last: 1, step: 1},
	"echo":                    {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "1.0.0", flags: "loading stale fast", first: 0, last: 0, step: 0},
	"eval":                    {cats: "slow scripting", tips: "", specFlags: "RW,access,update", group: "scripting", since: "2.6.0", flags: "noscript stale skip_monitor no_mandatory_keys movablekeys", first: 0, last: 0, step: 0},
	"eval_ro":                 {cats: "slow scripting", tips: "", specFlags: "RO,access", group: "scripting", since: "7.0.0", flags: "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", first: 0, last: 0, step: 0},
	"evalsha":                 {cats: "slow scripting", tips: "", specFlags: "RW,access,update", group: "scripting", since: "2.6.0", flags: "noscript stale skip_monitor no_mandatory_keys movablekeys", first: 0, last: 0, step: 0},
	"evalsha_ro":              {cats: "slow scripting", tips: "", specFlags: "RO,access", group: "scripting", since: "7.0.0", flags: "readonly noscript stale skip_monitor no_mandatory_keys movablekeys", first: 0, last: 0, step: 0},
	"exec":                    {cats: "slow transaction", tips: "", specFlags: "", group: "transactions", since: "1.2.0", flags: "noscript loading stale skip_slowlog", first: 0, last: 0, step: 0},
	"exists":                  {cats: "keyspace read fast", tips: "request_policy:multi_shard response_policy:agg_sum", specFlags: "RO", group: "generic", since: "1.0.0", flags: "readonly fast", first: 1, last: -1, step: 1},
	"expire":                  {cats: "keyspace write fast", tips: "", specFlags: "RW,update", group: "generic", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"expireat":                {cats: "keyspace write fast", tips: "", specFlags: "RW,update", group: "generic", since: "1.2.0", flags: "write fast", first: 1, last: 1, step: 1},
	"expiretime":              {cats: "keyspace read fast", tips: "", specFlags: "RO,access", group: "generic", since: "7.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"flushall":                {cats: "keyspace write slow dangerous", tips: "request_policy:all_shards response_policy:all_succeeded", specFlags: "", group: "server", since: "1.0.0", flags: "write", first: 0, last: 0, step: 0},
	"flushdb":                 {cats: "keyspace write slow dangerous", tips: "request_policy:all_shards response_policy:all_succeeded", specFlags: "", group: "server", since: "1.0.0", flags: "write", first: 0, last: 0, step: 0},
	"geoadd":                  {cats: "write geo slow", tips: "", specFlags: "RW,update", group: "geo", since: "3.2.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"geodist":                 {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "3.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"geohash":                 {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "3.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"geopos":                  {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "3.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"georadius":               {cats: "write geo slow", tips: "", specFlags: "RO,access|OW,update|OW,update", group: "geo", since: "3.2.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
	"georadius_ro":            {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "3.2.10", flags: "readonly", first: 1, last: 1, step: 1},
	"georadiusbymember":       {cats: "write geo slow", tips: "", specFlags: "RO,access|OW,update|OW,update", group: "geo", since: "3.2.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
	"georadiusbymember_ro":    {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "3.2.10", flags: "readonly", first: 1, last: 1, step: 1},
	"geosearch":               {cats: "read geo slow", tips: "", specFlags: "RO,access", group: "geo", since: "6.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"geosearchstore":          {cats: "write geo slow", tips: "", specFlags: "OW,update|RO,access", group: "geo", since: "6.2.0", flags: "write denyoom", first: 1, last: 2, step: 1},
	"get":                     {cats: "read string fast", tips: "", specFlags: "RO,access", group: "string", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"getbit":                  {cats: "read bitmap fast", tips: "", specFlags: "RO,access", group: "bitmap", since: "2.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"getdel":                  {cats: "write string fast", tips: "", specFlags: "RW,access,delete", group: "string", since: "6.2.0", flags: "write fast", first: 1, last: 1, step: 1},
	"getex":                   {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "6.2.0", flags: "write fast", first: 1, last: 1, step: 1},
	"getrange":                {cats: "read string slow", tips: "", specFlags: "RO,access", group: "string", since: "2.4.0", flags: "readonly", first: 1, last: 1, step: 1},
	"getset":                  {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hdel":                    {cats: "write hash fast", tips: "", specFlags: "RW,delete", group: "hash", since: "2.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"hello":                   {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "6.0.0", flags: "noscript loading stale fast no_auth allow_busy", first: 0, last: 0, step: 0},
	"hexists":                 {cats: "read hash fast", tips: "", specFlags: "RO", group: "hash", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"hget":                    {cats: "read hash fast", tips: "", specFlags: "RO,access", group: "hash", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"hgetall":                 {cats: "read hash slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "hash", since: "2.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"hincrby":                 {cats: "write hash fast", tips: "", specFlags: "RW,access,update", group: "hash", since: "2.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hincrbyfloat":            {cats: "write hash fast", tips: "", specFlags: "RW,access,update", group: "hash", since: "2.6.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hkeys":                   {cats: "read hash slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "hash", since: "2.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"hlen":                    {cats: "read hash fast", tips: "", specFlags: "RO", group: "hash", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"hmget":                   {cats: "read hash fast", tips: "", specFlags: "RO,access", group: "hash", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"hmset":                   {cats: "write hash fast", tips: "", specFlags: "RW,update", group: "hash", since: "2.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hrandfield":              {cats: "read hash slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "hash", since: "6.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"hscan":                   {cats: "read hash slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "hash", since: "2.8.0", flags: "readonly", first: 1, last: 1, step: 1},
	"hset":                    {cats: "write hash fast", tips: "", specFlags: "RW,update", group: "hash", since: "2.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hsetnx":                  {cats: "write hash fast", tips: "", specFlags: "RW,insert", group: "hash", since: "2.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"hstrlen":                 {cats: "read hash fast", tips: "", specFlags: "RO", group: "hash", since: "3.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"hvals":                   {cats: "read hash slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "hash", since: "2.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"incr":                    {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"incrby":                  {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"incrbyfloat":             {cats: "write string fast", tips: "", specFlags: "RW,access,update", group: "string", since: "2.6.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"info":                    {cats: "slow dangerous", tips: "nondeterministic_output request_policy:all_shards response_policy:special", specFlags: "", group: "server", since: "1.0.0", flags: "loading stale", first: 0, last: 0, step: 0},
	"keys":                    {cats: "keyspace read slow dangerous", tips: "request_policy:all_shards nondeterministic_output_order", specFlags: "", group: "generic", since: "1.0.0", flags: "readonly", first: 0, last: 0, step: 0},
	"lastsave":                {cats: "admin fast dangerous", tips: "nondeterministic_output", specFlags: "", group: "server", since: "1.0.0", flags: "loading stale fast", first: 0, last: 0, step: 0},
	"latency":                 {cats: "slow", tips: "", specFlags: "", group: "server", since: "2.8.13", flags: "", first: 0, last: 0, step: 0},
	"latency|graph":           {cats: "admin slow dangerous", tips: "nondeterministic_output request_policy:all_nodes response_policy:special", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "admin noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"latency|history":         {cats: "admin slow dangerous", tips: "nondeterministic_output request_policy:all_nodes response_policy:special", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "admin noscript loading stale", arity: 3, first: 0, last: 0, step: 0},
	"latency|help":            {cats: "slow", tips: "", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"latency|reset":           {cats: "admin slow dangerous", tips: "request_policy:all_nodes response_policy:all_succeeded", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "admin noscript loading stale", arity: -2, first: 0, last: 0, step: 0},
	"latency|histogram":       {cats: "admin slow dangerous", tips: "nondeterministic_output request_policy:all_nodes response_policy:special", specFlags: "", group: "server", since: "7.0.0", sub: true, flags: "admin noscript loading stale", arity: -2, first: 0, last: 0, step: 0},
	"latency|latest":          {cats: "admin slow dangerous", tips: "nondeterministic_output request_policy:all_nodes response_policy:special", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "admin noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"latency|doctor":          {cats: "admin slow dangerous", tips: "nondeterministic_output request_policy:all_nodes response_policy:special", specFlags: "", group: "server", since: "2.8.13", sub: true, flags: "admin noscript loading stale", arity: 2, first: 0, last: 0, step: 0},
	"lindex":                  {cats: "read list slow", tips: "", specFlags: "RO,access", group: "list", since: "1.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"linsert":                 {cats: "write list slow", tips: "", specFlags: "RW,insert", group: "list", since: "2.2.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"llen":                    {cats: "read list fast", tips: "", specFlags: "RO", group: "list", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"lmove":                   {cats: "write list slow", tips: "", specFlags: "RW,access,delete|RW,insert", group: "list", since: "6.2.0", flags: "write denyoom", first: 1, last: 2, step: 1},
	"lmpop":                   {cats: "write list slow", tips: "", specFlags: "RW,access,delete", group: "list", since: "7.0.0", flags: "write movablekeys", first: 0, last: 0, step: 0},
	"lpop":                    {cats: "write list fast", tips: "", specFlags: "RW,access,delete", group: "list", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"lpos":                    {cats: "read list slow", tips: "", specFlags: "RO,access", group: "list", since: "6.0.6", flags: "readonly", first: 1, last: 1, step: 1},
	"lpush":                   {cats: "write list fast", tips: "", specFlags: "RW,insert", group: "list", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"lpushx":                  {cats: "write list fast", tips: "", specFlags: "RW,insert", group: "list", since: "2.2.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"lrange":                  {cats: "read list slow", tips: "", specFlags: "RO,access", group: "list", since: "1.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"lrem":                    {cats: "write list slow", tips: "", specFlags: "RW,delete", group: "list", since: "1.0.0", flags: "write", first: 1, last: 1, step: 1},
	"lset":                    {cats: "write list slow", tips: "", specFlags: "RW,update", group: "list", since: "1.0.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"ltrim":                   {cats: "write list slow", tips: "", specFlags: "RW,delete", group: "list", since: "1.0.0", flags: "write", first: 1, last: 1, step: 1},
	"memory":                  {cats: "slow", tips: "", specFlags: "", group: "server", since: "4.0.0", flags: "", first: 0, last: 0, step: 0},
	"memory|malloc-stats":     {cats: "slow", tips: "nondeterministic_output request_policy:all_shards response_policy:special", specFlags: "", group: "server", since: "4.0.0", sub: true, flags: "", arity: 2, first: 0, last: 0, step: 0},
	"memory|usage":            {cats: "read slow", tips: "", specFlags: "RO", group: "server", since: "4.0.0", sub: true, flags: "readonly", arity: -3, first: 2, last: 2, step: 1},
	"memory|help":             {cats: "slow", tips: "", specFlags: "", group: "server", since: "4.0.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"memory|stats":            {cats: "slow", tips: "nondeterministic_output request_policy:all_shards response_policy:special", specFlags: "", group: "server", since: "4.0.0", sub: true, flags: "", arity: 2, first: 0, last: 0, step: 0},
	"memory|purge":            {cats: "slow", tips: "request_policy:all_shards response_policy:all_succeeded", specFlags: "", group: "server", since: "4.0.0", sub: true, flags: "", arity: 2, first: 0, last: 0, step: 0},
	"memory|doctor":           {cats: "slow", tips: "nondeterministic_output request_policy:all_shards response_policy:special", specFlags: "", group: "server", since: "4.0.0", sub: true, flags: "", arity: 2, first: 0, last: 0, step: 0},
	"mget":                    {cats: "read string fast", tips: "request_policy:multi_shard", specFlags: "RO,access", group: "string", since: "1.0.0", flags: "readonly fast", first: 1, last: -1, step: 1},
	"move":                    {cats: "keyspace write fast", tips: "", specFlags: "RW,access,update", group: "generic", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"mset":                    {cats: "write string slow", tips: "request_policy:multi_shard response_policy:all_succeeded", specFlags: "OW,update", group: "string", since: "1.0.1", flags: "write denyoom", first: 1, last: -1, step: 2},
	"msetnx":                  {cats: "write string slow", tips: "request_policy:multi_shard response_policy:agg_min", specFlags: "OW,insert", group: "string", since: "1.0.1", flags: "write denyoom", first: 1, last: -1, step: 2},
	"multi":                   {cats: "fast transaction", tips: "", specFlags: "", group: "transactions", since: "1.2.0", flags: "noscript loading stale fast allow_busy", first: 0, last: 0, step: 0},
	"object":                  {cats: "slow", tips: "", specFlags: "", group: "generic", since: "2.2.3", flags: "", first: 0, last: 0, step: 0},
	"object|idletime":         {cats: "keyspace read slow", tips: "nondeterministic_output", specFlags: "RO", group: "generic", since: "2.2.3", sub: true, flags: "readonly", arity: 3, first: 2, last: 2, step: 1},
	"object|encoding":         {cats: "keyspace read slow", tips: "nondeterministic_output", specFlags: "RO", group: "generic", since: "2.2.3", sub: true, flags: "readonly", arity: 3, first: 2, last: 2, step: 1},
	"object|help":             {cats: "keyspace slow", tips: "", specFlags: "", group: "generic", since: "6.2.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"object|refcount":         {cats: "keyspace read slow", tips: "nondeterministic_output", specFlags: "RO", group: "generic", since: "2.2.3", sub: true, flags: "readonly", arity: 3, first: 2, last: 2, step: 1},
	"object|freq":             {cats: "keyspace read slow", tips: "nondeterministic_output", specFlags: "RO", group: "generic", since: "4.0.0", sub: true, flags: "readonly", arity: 3, first: 2, last: 2, step: 1},
	"persist":                 {cats: "keyspace write fast", tips: "", specFlags: "RW,update", group: "generic", since: "2.2.0", flags: "write fast", first: 1, last: 1, step: 1},
	"pexpire":                 {cats: "keyspace write fast", tips: "", specFlags: "RW,update", group: "generic", since: "2.6.0", flags: "write fast", first: 1, last: 1, step: 1},
	"pexpireat":               {cats: "keyspace write fast", tips: "", specFlags: "RW,update", group: "generic", since: "2.6.0", flags: "write fast", first: 1, last: 1, step: 1},
	"pexpiretime":             {cats: "keyspace read fast", tips: "", specFlags: "RO,access", group: "generic", since: "7.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"pfadd":                   {cats: "write hyperloglog fast", tips: "", specFlags: "RW,insert", group: "hyperloglog", since: "2.8.9", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"pfcount":                 {cats: "read hyperloglog slow", tips: "", specFlags: "RW,access", group: "hyperloglog", since: "2.8.9", flags: "readonly", first: 1, last: -1, step: 1},
	"pfdebug":                 {cats: "write hyperloglog admin slow dangerous", tips: "", specFlags: "RW,access", group: "hyperloglog", since: "2.8.9", flags: "write denyoom admin", first: 2, last: 2, step: 1},
	"pfmerge":                 {cats: "write hyperloglog slow", tips: "", specFlags: "RW,access,insert|RO,access", group: "hyperloglog", since: "2.8.9", flags: "write denyoom", first: 1, last: -1, step: 1},
	"pfselftest":              {cats: "hyperloglog admin slow dangerous", tips: "", specFlags: "", group: "hyperloglog", since: "2.8.9", flags: "admin", first: 0, last: 0, step: 0},
	"ping":                    {cats: "fast connection", tips: "request_policy:all_shards response_policy:all_succeeded", specFlags: "", group: "connection", since: "1.0.0", flags: "fast", first: 0, last: 0, step: 0},
	"psetex":                  {cats: "write string slow", tips: "", specFlags: "OW,update", group: "string", since: "2.6.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"psubscribe":              {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.0.0", flags: "pubsub noscript loading stale", first: 0, last: 0, step: 0},
	"psync":                   {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "2.8.0", flags: "admin noscript no_async_loading no_multi", first: 0, last: 0, step: 0},
	"pttl":                    {cats: "keyspace read fast", tips: "nondeterministic_output", specFlags: "RO,access", group: "generic", since: "2.6.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"publish":                 {cats: "pubsub fast", tips: "", specFlags: "", group: "pubsub", since: "2.0.0", flags: "pubsub loading stale fast", first: 0, last: 0, step: 0},
	"pubsub":                  {cats: "slow", tips: "", specFlags: "", group: "pubsub", since: "2.8.0", flags: "", first: 0, last: 0, step: 0},
	"pubsub|numsub":           {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.8.0", sub: true, flags: "pubsub loading stale", arity: -2, first: 0, last: 0, step: 0},
	"pubsub|help":             {cats: "slow", tips: "", specFlags: "", group: "pubsub", since: "6.2.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"pubsub|numpat":           {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.8.0", sub: true, flags: "pubsub loading stale", arity: 2, first: 0, last: 0, step: 0},
	"pubsub|shardchannels":    {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "7.0.0", sub: true, flags: "pubsub loading stale", arity: -2, first: 0, last: 0, step: 0},
	"pubsub|channels":         {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.8.0", sub: true, flags: "pubsub loading stale", arity: -2, first: 0, last: 0, step: 0},
	"pubsub|shardnumsub":      {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "7.0.0", sub: true, flags: "pubsub loading stale", arity: -2, first: 0, last: 0, step: 0},
	"punsubscribe":            {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.0.0", flags: "pubsub noscript loading stale", first: 0, last: 0, step: 0},
	"quit":                    {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "1.0.0", flags: "noscript loading stale fast no_auth allow_busy", first: 0, last: 0, step: 0},
	"randomkey":               {cats: "keyspace read slow", tips: "request_policy:all_shards nondeterministic_output", specFlags: "", group: "generic", since: "1.0.0", flags: "readonly", first: 0, last: 0, step: 0},
	"rename":                  {cats: "keyspace write slow", tips: "", specFlags: "RW,access,delete|OW,update", group: "generic", since: "1.0.0", flags: "write", first: 1, last: 2, step: 1},
	"renamenx":                {cats: "keyspace write fast", tips: "", specFlags: "RW,access,delete|OW,insert", group: "generic", since: "1.0.0", flags: "write fast", first: 1, last: 2, step: 1},
	"replconf":                {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "3.0.0", flags: "admin noscript loading stale allow_busy", first: 0, last: 0, step: 0},
	"replicaof":               {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "5.0.0", flags: "admin noscript stale no_async_loading", first: 0, last: 0, step: 0},
	"reset":                   {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "6.2.0", flags: "noscript loading stale fast no_auth allow_busy", first: 0, last: 0, step: 0},
	"restore":                 {cats: "keyspace write slow dangerous", tips: "", specFlags: "OW,update", group: "generic", since: "2.6.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"role":                    {cats: "admin fast dangerous", tips: "", specFlags: "", group: "server", since: "2.8.12", flags: "noscript loading stale fast", first: 0, last: 0, step: 0},
	"rpop":                    {cats: "write list fast", tips: "", specFlags: "RW,access,delete", group: "list", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"rpoplpush":               {cats: "write list slow", tips: "", specFlags: "RW,access,delete|RW,insert", group: "list", since: "1.2.0", flags: "write denyoom", first: 1, last: 2, step: 1},
	"rpush":                   {cats: "write list fast", tips: "", specFlags: "RW,insert", group: "list", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"rpushx":                  {cats: "write list fast", tips: "", specFlags: "RW,insert", group: "list", since: "2.2.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"sadd":                    {cats: "write set fast", tips: "", specFlags: "RW,insert", group: "set", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"save":                    {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript no_async_loading no_multi", first: 0, last: 0, step: 0},
	"scan":                    {cats: "keyspace read slow", tips: "nondeterministic_output request_policy:special", specFlags: "", group: "generic", since: "2.8.0", flags: "readonly", first: 0, last: 0, step: 0},
	"scard":                   {cats: "read set fast", tips: "", specFlags: "RO", group: "set", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"script":                  {cats: "slow", tips: "", specFlags: "", group: "scripting", since: "2.6.0", flags: "", first: 0, last: 0, step: 0},
	"script|help":             {cats: "slow scripting", tips: "", specFlags: "", group: "scripting", since: "5.0.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"script|flush":            {cats: "slow scripting", tips: "request_policy:all_nodes response_policy:all_succeeded", specFlags: "", group: "scripting", since: "2.6.0", sub: true, flags: "noscript", arity: -2, first: 0, last: 0, step: 0},
	"script|exists":           {cats: "slow scripting", tips: "request_policy:all_shards response_policy:agg_logical_and", specFlags: "", group: "scripting", since: "2.6.0", sub: true, flags: "noscript", arity: -3, first: 0, last: 0, step: 0},
	"script|load":             {cats: "slow scripting", tips: "request_policy:all_nodes response_policy:all_succeeded", specFlags: "", group: "scripting", since: "2.6.0", sub: true, flags: "noscript stale", arity: 3, first: 0, last: 0, step: 0},
	"script|debug":            {cats: "slow scripting", tips: "", specFlags: "", group: "scripting", since: "3.2.0", sub: true, flags: "noscript", arity: 3, first: 0, last: 0, step: 0},
	"script|kill":             {cats: "slow scripting", tips: "request_policy:all_shards response_policy:one_succeeded", specFlags: "", group: "scripting", since: "2.6.0", sub: true, flags: "noscript allow_busy", arity: 2, first: 0, last: 0, step: 0},
	"sdiff":                   {cats: "read set slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "set", since: "1.0.0", flags: "readonly", first: 1, last: -1, step: 1},
	"sdiffstore":              {cats: "write set slow", tips: "", specFlags: "OW,update|RO,access", group: "set", since: "1.0.0", flags: "write denyoom", first: 1, last: -1, step: 1},
	"select":                  {cats: "fast connection", tips: "", specFlags: "", group: "connection", since: "1.0.0", flags: "loading stale fast", first: 0, last: 0, step: 0},
	"set":                     {cats: "write string slow", tips: "", specFlags: "RW,access,update,variable_flags", group: "string", since: "1.0.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"setbit":                  {cats: "write bitmap slow", tips: "", specFlags: "RW,access,update", group: "bitmap", since: "2.2.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"setex":                   {cats: "write string slow", tips: "", specFlags: "OW,update", group: "string", since: "2.0.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"setnx":                   {cats: "write string fast", tips: "", specFlags: "OW,insert", group: "string", since: "1.0.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"setrange":                {cats: "write string slow", tips: "", specFlags: "RW,update", group: "string", since: "2.2.0", flags: "write denyoom", first: 1, last: 1, step: 1},
	"shutdown":                {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript loading stale no_multi allow_busy", first: 0, last: 0, step: 0},
	"sinter":                  {cats: "read set slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "set", since: "1.0.0", flags: "readonly", first: 1, last: -1, step: 1},
	"sintercard":              {cats: "read set slow", tips: "", specFlags: "RO,access", group: "set", since: "7.0.0", flags: "readonly movablekeys", first: 0, last: 0, step: 0},
	"sinterstore":             {cats: "write set slow", tips: "", specFlags: "RW,update|RO,access", group: "set", since: "1.0.0", flags: "write denyoom", first: 1, last: -1, step: 1},
	"sismember":               {cats: "read set fast", tips: "", specFlags: "RO", group: "set", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"slaveof":                 {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript stale no_async_loading", first: 0, last: 0, step: 0},
	"slowlog":                 {cats: "slow", tips: "", specFlags: "", group: "server", since: "2.2.12", flags: "", first: 0, last: 0, step: 0},
	"slowlog|reset":           {cats: "admin slow dangerous", tips: "request_policy:all_nodes response_policy:all_succeeded", specFlags: "", group: "server", since: "2.2.12", sub: true, flags: "admin loading stale", arity: 2, first: 0, last: 0, step: 0},
	"slowlog|get":             {cats: "admin slow dangerous", tips: "request_policy:all_nodes nondeterministic_output", specFlags: "", group: "server", since: "2.2.12", sub: true, flags: "admin loading stale", arity: -2, first: 0, last: 0, step: 0},
	"slowlog|help":            {cats: "slow", tips: "", specFlags: "", group: "server", since: "6.2.0", sub: true, flags: "loading stale", arity: 2, first: 0, last: 0, step: 0},
	"slowlog|len":             {cats: "admin slow dangerous", tips: "request_policy:all_nodes response_policy:agg_sum nondeterministic_output", specFlags: "", group: "server", since: "2.2.12", sub: true, flags: "admin loading stale", arity: 2, first: 0, last: 0, step: 0},
	"smembers":                {cats: "read set slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "set", since: "1.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"smismember":              {cats: "read set fast", tips: "", specFlags: "RO,access", group: "set", since: "6.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"smove":                   {cats: "write set fast", tips: "", specFlags: "RW,access,delete|RW,insert", group: "set", since: "1.0.0", flags: "write fast", first: 1, last: 2, step: 1},
	"sort":                    {cats: "write set sortedset list slow dangerous", tips: "", specFlags: "RO,access|RO,access|OW,update", group: "generic", since: "1.0.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
	"sort_ro":                 {cats: "read set sortedset list slow dangerous", tips: "", specFlags: "RO,access|RO,access", group: "generic", since: "7.0.0", flags: "readonly movablekeys", first: 1, last: 1, step: 1},
	"spop":                    {cats: "write set fast", tips: "nondeterministic_output", specFlags: "RW,access,delete", group: "set", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"spublish":                {cats: "pubsub fast", tips: "", specFlags: "not_key", group: "pubsub", since: "7.0.0", flags: "pubsub loading stale fast", first: 1, last: 1, step: 1},
	"srandmember":             {cats: "read set slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "set", since: "1.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"srem":                    {cats: "write set fast", tips: "", specFlags: "RW,delete", group: "set", since: "1.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"sscan":                   {cats: "read set slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "set", since: "2.8.0", flags: "readonly", first: 1, last: 1, step: 1},
	"ssubscribe":              {cats: "pubsub slow", tips: "", specFlags: "not_key", group: "pubsub", since: "7.0.0", flags: "pubsub noscript loading stale", first: 1, last: -1, step: 1},
	"strlen":                  {cats: "read string fast", tips: "", specFlags: "RO", group: "string", since: "2.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"subscribe":               {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.0.0", flags: "pubsub noscript loading stale", first: 0, last: 0, step: 0},
	"substr":                  {cats: "read string slow", tips: "", specFlags: "RO,access", group: "string", since: "1.0.0", flags: "readonly", first: 1, last: 1, step: 1},
	"sunion":                  {cats: "read set slow", tips: "nondeterministic_output_order", specFlags: "RO,access", group: "set", since: "1.0.0", flags: "readonly", first: 1, last: -1, step: 1},
	"sunionstore":             {cats: "write set slow", tips: "", specFlags: "OW,update|RO,access", group: "set", since: "1.0.0", flags: "write denyoom", first: 1, last: -1, step: 1},
	"sunsubscribe":            {cats: "pubsub slow", tips: "", specFlags: "not_key", group: "pubsub", since: "7.0.0", flags: "pubsub noscript loading stale", first: 1, last: -1, step: 1},
	"swapdb":                  {cats: "keyspace write fast dangerous", tips: "", specFlags: "", group: "server", since: "4.0.0", flags: "write fast", first: 0, last: 0, step: 0},
	"sync":                    {cats: "admin slow dangerous", tips: "", specFlags: "", group: "server", since: "1.0.0", flags: "admin noscript no_async_loading no_multi", first: 0, last: 0, step: 0},
	"time":                    {cats: "fast", tips: "nondeterministic_output", specFlags: "", group: "server", since: "2.6.0", flags: "loading stale fast", first: 0, last: 0, step: 0},
	"touch":                   {cats: "keyspace read fast", tips: "request_policy:multi_shard response_policy:agg_sum", specFlags: "RO", group: "generic", since: "3.2.1", flags: "readonly fast", first: 1, last: -1, step: 1},
	"ttl":                     {cats: "keyspace read fast", tips: "nondeterministic_output", specFlags: "RO,access", group: "generic", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"type":                    {cats: "keyspace read fast", tips: "", specFlags: "RO", group: "generic", since: "1.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"unlink":                  {cats: "keyspace write fast", tips: "request_policy:multi_shard response_policy:agg_sum", specFlags: "RM,delete", group: "generic", since: "4.0.0", flags: "write fast", first: 1, last: -1, step: 1},
	"unsubscribe":             {cats: "pubsub slow", tips: "", specFlags: "", group: "pubsub", since: "2.0.0", flags: "pubsub noscript loading stale", first: 0, last: 0, step: 0},
	"unwatch":                 {cats: "fast transaction", tips: "", specFlags: "", group: "transactions", since: "2.2.0", flags: "noscript loading stale fast allow_busy", first: 0, last: 0, step: 0},
	"wait":                    {cats: "slow connection", tips: "request_policy:all_shards response_policy:agg_min", specFlags: "", group: "generic", since: "3.0.0", flags: "noscript", first: 0, last: 0, step: 0},
	"watch":                   {cats: "fast transaction", tips: "", specFlags: "RO", group: "transactions", since: "2.2.0", flags: "noscript loading stale fast allow_busy", first: 1, last: -1, step: 1},
	"zadd":                    {cats: "write sortedset fast", tips: "", specFlags: "RW,update", group: "sorted-set", since: "1.2.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"zcard":                   {cats: "read sortedset fast", tips: "", specFlags: "RO", group: "sorted-set", since: "1.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zcount":                  {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zdiff":                   {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "6.2.0", flags: "readonly movablekeys", first: 0, last: 0, step: 0},
	"zdiffstore":              {cats: "write sortedset slow", tips: "", specFlags: "OW,update|RO,access", group: "sorted-set", since: "6.2.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
	"zincrby":                 {cats: "write sortedset fast", tips: "", specFlags: "RW,access,update", group: "sorted-set", since: "1.2.0", flags: "write denyoom fast", first: 1, last: 1, step: 1},
	"zinter":                  {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "6.2.0", flags: "readonly movablekeys", first: 0, last: 0, step: 0},
	"zintercard":              {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "7.0.0", flags: "readonly movablekeys", first: 0, last: 0, step: 0},
	"zinterstore":             {cats: "write sortedset slow", tips: "", specFlags: "OW,update|RO,access", group: "sorted-set", since: "2.0.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
	"zlexcount":               {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.8.9", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zmpop":                   {cats: "write sortedset slow", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "7.0.0", flags: "write movablekeys", first: 0, last: 0, step: 0},
	"zmscore":                 {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "6.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zpopmax":                 {cats: "write sortedset fast", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "5.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"zpopmin":                 {cats: "write sortedset fast", tips: "", specFlags: "RW,access,delete", group: "sorted-set", since: "5.0.0", flags: "write fast", first: 1, last: 1, step: 1},
	"zrandmember":             {cats: "read sortedset slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "sorted-set", since: "6.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"zrange":                  {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "1.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"zrangebylex":             {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.8.9", flags: "readonly", first: 1, last: 1, step: 1},
	"zrangebyscore":           {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "1.0.5", flags: "readonly", first: 1, last: 1, step: 1},
	"zrangestore":             {cats: "write sortedset slow", tips: "", specFlags: "OW,update|RO,access", group: "sorted-set", since: "6.2.0", flags: "write denyoom", first: 1, last: 2, step: 1},
	"zrank":                   {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zrem":                    {cats: "write sortedset fast", tips: "", specFlags: "RW,delete", group: "sorted-set", since: "1.2.0", flags: "write fast", first: 1, last: 1, step: 1},
	"zremrangebylex":          {cats: "write sortedset slow", tips: "", specFlags: "RW,delete", group: "sorted-set", since: "2.8.9", flags: "write", first: 1, last: 1, step: 1},
	"zremrangebyrank":         {cats: "write sortedset slow", tips: "", specFlags: "RW,delete", group: "sorted-set", since: "2.0.0", flags: "write", first: 1, last: 1, step: 1},
	"zremrangebyscore":        {cats: "write sortedset slow", tips: "", specFlags: "RW,delete", group: "sorted-set", since: "1.2.0", flags: "write", first: 1, last: 1, step: 1},
	"zrevrange":               {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "1.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"zrevrangebylex":          {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.8.9", flags: "readonly", first: 1, last: 1, step: 1},
	"zrevrangebyscore":        {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.2.0", flags: "readonly", first: 1, last: 1, step: 1},
	"zrevrank":                {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "2.0.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zscan":                   {cats: "read sortedset slow", tips: "nondeterministic_output", specFlags: "RO,access", group: "sorted-set", since: "2.8.0", flags: "readonly", first: 1, last: 1, step: 1},
	"zscore":                  {cats: "read sortedset fast", tips: "", specFlags: "RO,access", group: "sorted-set", since: "1.2.0", flags: "readonly fast", first: 1, last: 1, step: 1},
	"zunion":                  {cats: "read sortedset slow", tips: "", specFlags: "RO,access", group: "sorted-set", since: "6.2.0", flags: "readonly movablekeys", first: 0, last: 0, step: 0},
	"zunionstore":             {cats: "write sortedset slow", tips: "", specFlags: "OW,update|RO,access", group: "sorted-set", since: "2.0.0", flags: "write denyoom movablekeys", first: 1, last: 1, step: 1},
}
