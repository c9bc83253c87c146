package server

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
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
			Subs: map[string]int{"id": 2, "info": 2, "list": -2, "kill": -3, "getname": 2, "setname": 3, "help": 2}},
		&Command{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Proc: commandCommand,
			Subs: map[string]int{"count": 2, "docs": -2, "getkeys": -4, "help": 2, "info": -2, "list": -2}},
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
	for i := 0; i < n; i++ {
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
		c.addBulkStrings([]string{"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET [<count>]", "LEN", "RESET", "HELP"})
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
		c.addBulkStrings([]string{"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "SET <directive> <value>", "RESETSTAT", "REWRITE", "HELP"})
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
	for _, cmd := range commands {
		cmd.calls.Store(0)
		cmd.usec.Store(0)
	}
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

func (s *Server) clientsSnapshot() []*client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *client) int { return int(a.id - b.id) })
	return out
}

// clientType is the class CLIENT LIST/KILL TYPE match (mu held); replica
// and master links are not clients of this kind yet.
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

func (c *client) info(self *client) string {
	now := time.Now()
	flags := "N"
	if c.inMulti {
		flags = "x"
	}
	if c.subscribed() {
		flags = "P"
	}
	switch c.clientType() {
	case "master":
		flags = "M"
	case "replica":
		flags = "S"
	}
	multi := -1
	if c.inMulti {
		multi = len(c.queue)
	}
	cmd := c.lastCmd
	if cmd == "" {
		cmd = "NULL"
	}
	if c == self {
		cmd = self.curCmdName
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=0 oll=0 omem=0 tot-mem=%d events=r cmd=%s user=default redir=-1 resp=%d",
		c.id, c.addr, c.laddr, c.id+7, c.name, int64(now.Sub(c.ctime).Seconds()),
		(now.UnixNano()-c.lastInteraction.Load())/1e9, flags, c.db.id,
		len(c.subs.channels), len(c.subs.patterns), len(c.subs.shard), multi,
		16384, 16384, cmd, c.resp)
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
	case sub == "help" && len(argv) == 2:
		c.addBulkStrings([]string{"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ID", "INFO", "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID id [id ...]]",
			"KILL <ip:port> | KILL <option> <value> [<option> <value> [...]]", "GETNAME", "SETNAME <name>", "HELP"})
	case sub == "id" || sub == "getname" || sub == "setname" || sub == "info":
		c.addError(errWrongArgs("client|" + sub))
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
			case "normal", "master", "replica", "slave", "pubsub":
			default:
				c.addError(fmt.Sprintf("ERR Unknown client type '%s'", argv[i+1]))
				return
			}
			i++
		case opt == "id" && i+1 < len(argv):
			ids = map[int64]bool{}
			for i++; i < len(argv); i++ {
				n, ok := parseInt64(argv[i])
				if !ok || n <= 0 {
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

func (c *client) clientKill(argv [][]byte) {
	var addr, laddr string
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
				case "normal", "master", "replica", "slave", "pubsub":
				default:
					c.addError(fmt.Sprintf("ERR Unknown client type '%s'", v))
					return
				}
			case "user":
				if v != "default" {
					c.addError(fmt.Sprintf("ERR No such user '%s'", v))
					return
				}
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
			default:
				c.addError(errSyntax)
				return
			}
		}
	}
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

// COMMAND.

func (c *client) addCommandInfo(cmd *Command) {
	c.addArrayLen(10)
	c.addBulkString(cmd.Name)
	c.addInt(int64(cmd.Arity))
	fl := cmd.flagList()
	c.addArrayLen(len(fl))
	for _, f := range fl {
		c.addSimple(f)
	}
	c.addInt(int64(cmd.FirstKey))
	c.addInt(int64(cmd.LastKey))
	c.addInt(int64(cmd.Step))
	cats := aclCategories(cmd)
	c.addArrayLen(len(cats))
	for _, cat := range cats {
		c.addSimple(cat)
	}
	c.addArrayLen(0) // tips
	c.addArrayLen(0) // key specs
	c.addArrayLen(0) // subcommands
}

func sortedCommands() []*Command {
	out := make([]*Command, 0, len(commands))
	for _, cmd := range commands {
		out = append(out, cmd)
	}
	slices.SortFunc(out, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	return out
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
			c.addArrayLen(6)
			c.addBulkString("summary")
			c.addBulkString(cmd.Name + " command")
			c.addBulkString("since")
			c.addBulkString("1.0.0")
			c.addBulkString("group")
			c.addBulkString(commandGroup(cmd))
		}
	case sub == "list":
		var pat []byte
		if len(argv) > 2 {
			if len(argv) != 5 || !eqFold(argv[2], "filterby") || !eqFold(argv[3], "pattern") {
				c.addError(errSyntax)
				return
			}
			pat = argv[4]
		}
		var names []string
		for _, cmd := range sortedCommands() {
			if pat == nil || globMatch(pat, []byte(cmd.Name), true) {
				names = append(names, cmd.Name)
			}
		}
		c.addBulkStrings(names)
	case sub == "getkeys" && len(argv) < 4:
		c.addError(errWrongArgs("command|getkeys"))
	case sub == "getkeys":
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
		for _, k := range keys {
			c.addBulk(k)
		}
	case sub == "help" && len(argv) == 2:
		c.addBulkStrings([]string{"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"(no subcommand)", "COUNT", "INFO [<command-name> ...]", "DOCS [<command-name> ...]", "LIST", "GETKEYS <full-command>", "HELP"})
	default:
		unknownSubcommand(c, argv)
	}
}

// aclCategories derives the ACL categories from the flags.
func aclCategories(cmd *Command) []string {
	var out []string
	if cmd.Flags&FlagWrite != 0 {
		out = append(out, "@write")
	}
	if cmd.Flags&FlagReadOnly != 0 {
		out = append(out, "@read")
	}
	if cmd.Flags&FlagAdmin != 0 {
		out = append(out, "@admin", "@dangerous")
	}
	if cmd.Flags&FlagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	return out
}

func commandGroup(cmd *Command) string {
	switch {
	case strings.HasPrefix(cmd.Name, "slots"):
		return "codis"
	case cmd.Flags&FlagAdmin != 0:
		return "server"
	}
	return "generic"
}
