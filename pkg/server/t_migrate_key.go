package server

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password | AUTH2 username password] [KEYS key [key ...]]
// (Redis 7.0): DUMP the keys, RESTORE them on the target instance, and
// delete the ones it acknowledged unless COPY is given.
//
// As Redis, the exchange with the target happens inside the command
// (holding Server.mu), every network step bounded by the timeout (1000 ms
// when not positive). Connections are cached per "host:port" for 10 s
// (at most 64) and remember the database last selected; a failure on a
// cached connection other than a timeout is retried once on a new one.
// Replies: +OK, +NOKEY when none of the keys exists, "Target instance
// replied with error: ..." for the first error of the target (the keys it
// accepted are still deleted), or "IOERR error or timeout
// connecting to the client" / "... writing to target instance" /
// "... reading to target instance". Replicas and the AOF get a DEL of
// the keys that moved.

func init() {
	register(&Command{Name: "migrate", Arity: -6, Flags: FlagWrite, FirstKey: 3, LastKey: 3, Step: 1,
		KeysFn: migrateKeys, Proc: migrateCommand})
	commandMeta["migrate"] = cmdMeta{cats: "keyspace write slow dangerous", tips: "nondeterministic_output",
		specFlags: "RW,access,delete", group: "generic", since: "2.6.0", flags: "write movablekeys",
		first: 3, last: 3, step: 1}
}

// migrateKeys finds MIGRATE's keys: argv[3], or those after KEYS when
// argv[3] is empty.
func migrateKeys(argv [][]byte) [][]byte {
	if len(argv) < 6 {
		return nil
	}
	if len(argv[3]) == 0 {
		for j := 6; j < len(argv); j++ {
			if eqFold(argv[j], "keys") {
				return argv[j+1:]
			}
		}
	}
	return argv[3:4]
}

const (
	migrateCacheTTL  = 10 * time.Second
	migrateCacheSize = 64
)

// migrateSock is a cached connection to a MIGRATE target (Server.mu).
type migrateSock struct {
	conn     net.Conn
	br       *bufio.Reader
	lastDB   int64 // -1: SELECT needed
	lastUsed time.Time
}

var (
	errMigrateConnect = errors.New("IOERR error or timeout connecting to the client")
	errMigrateTimeout = errors.New("timeout")
)

// migrateSocket returns the cached connection to host:port, or connects.
func (s *Server) migrateSocket(host, port string, timeout time.Duration) (*migrateSock, error) {
	name := host + ":" + port
	if ms := s.migrateSocks[name]; ms != nil {
		ms.lastUsed = time.Now()
		return ms, nil
	}
	if len(s.migrateSocks) >= migrateCacheSize {
		// Too many: close a random one, as Redis does.
		n := rand.IntN(len(s.migrateSocks))
		for k := range s.migrateSocks {
			if n == 0 {
				s.migrateClose(k)
				break
			}
			n--
		}
	}
	conn, err := (&net.Dialer{Timeout: timeout}).Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errMigrateConnect
		}
		// Redis connects without blocking and finds a refused
		// connection only when it writes: report that, as it does.
		return &migrateSock{lastDB: -1, lastUsed: time.Now()}, nil
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	ms := &migrateSock{conn: conn, br: bufio.NewReader(conn), lastDB: -1, lastUsed: time.Now()}
	if s.migrateSocks == nil {
		s.migrateSocks = map[string]*migrateSock{}
	}
	s.migrateSocks[name] = ms
	return ms, nil
}

func (s *Server) migrateClose(name string) {
	if ms := s.migrateSocks[name]; ms != nil {
		_ = ms.conn.Close()
		delete(s.migrateSocks, name)
	}
}

// migrateCloseIdle closes connections idle for longer than the cache TTL,
// or all of them (mu held; from the cron and at shutdown).
func (s *Server) migrateCloseIdle(now time.Time, all bool) {
	for name, ms := range s.migrateSocks {
		if all || now.Sub(ms.lastUsed) > migrateCacheTTL {
			s.migrateClose(name)
		}
	}
}

// atoiPrefix is C's atoi: the leading decimal digits (after an optional
// sign), 0 if none. Redis reads MIGRATE's port this way.
func atoiPrefix(b []byte) int64 {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	var n int64
	for _, ch := range b {
		if ch < '0' || ch > '9' || n > 1<<40 {
			break
		}
		n = n*10 + int64(ch-'0')
	}
	if neg {
		return -n
	}
	return n
}

func migrateCommand(c *client, argv [][]byte) {
	var copyKeys, replace bool
	var auth [][]byte // AUTH's arguments: [password] or [username password]
	keys := argv[3:4]
	for j := 6; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case eqFold(argv[j], "copy"):
			copyKeys = true
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "auth") && more >= 1:
			auth = argv[j+1 : j+2]
			j++
		case eqFold(argv[j], "auth2") && more >= 2:
			auth = argv[j+1 : j+3]
			j += 2
		case eqFold(argv[j], "keys"):
			if len(argv[3]) != 0 {
				c.addError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return
			}
			keys = argv[j+1:]
			j = len(argv)
		default:
			c.addError(errSyntax)
			return
		}
	}
	timeoutMS, ok := parseInt64(argv[5])
	if !ok {
		c.addError(errNotInt)
		return
	}
	dbid, ok := parseInt64(argv[4])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if timeoutMS <= 0 {
		timeoutMS = 1000
	}
	timeout := time.Duration(timeoutMS) * time.Millisecond

	var live []mgrtKey
	for _, k := range keys {
		if e := c.db.Lookup(k); e != nil {
			live = append(live, mgrtKey{key: k, e: e})
		}
	}
	if len(live) == 0 {
		c.addRaw("+NOKEY\r\n")
		return
	}
	s := c.s
	host, port := string(argv[1]), strconv.FormatInt(atoiPrefix(argv[2]), 10)
	name := host + ":" + port
	for attempt := 0; ; attempt++ {
		ms, err := s.migrateSocket(host, port, timeout)
		if err != nil {
			c.addError(err.Error())
			return
		}
		replies, targetErr, writing, err := c.migrateSend(ms, live, dbid, auth, replace, copyKeys, timeout)
		if err == nil {
			ms.lastDB = dbid
			c.addOK()
			return
		}
		if targetErr != "" {
			ms.lastDB = -1
			c.addError("ERR Target instance replied with error: " + targetErr)
			return
		}
		s.migrateClose(name)
		if replies == 0 && attempt == 0 && !errors.Is(err, errMigrateTimeout) {
			continue // the cached connection may have been closed: once more
		}
		if writing {
			c.addError("IOERR error or timeout writing to target instance")
		} else {
			c.addError("IOERR error or timeout reading to target instance")
		}
		return
	}
}

// migrateSend writes AUTH, SELECT and one RESTORE per key to the target,
// reads the replies and deletes the keys it accepted (unless copyKeys).
// It returns how many replies were read for keys, the first error the
// target replied (then err is non-nil too), whether a network failure
// happened while writing, and err.
func (c *client) migrateSend(ms *migrateSock, keys []mgrtKey, dbid int64, auth [][]byte, replace, copyKeys bool,
	timeout time.Duration) (replies int, targetErr string, writing bool, err error) {
	if ms.conn == nil {
		return 0, "", true, errors.New("connection refused")
	}
	s := c.s
	var buf []byte
	if len(auth) > 0 {
		buf = resp.AppendArrayLen(buf, 1+len(auth))
		buf = resp.AppendBulkString(buf, "AUTH")
		for _, a := range auth {
			buf = resp.AppendBulk(buf, a)
		}
	}
	sel := ms.lastDB != dbid
	if sel {
		buf = resp.AppendCommandStrings(buf, "SELECT", strconv.FormatInt(dbid, 10))
	}
	now := s.ks.now
	sent := keys[:0:0]
	for _, k := range keys {
		ttl := int64(0)
		if k.e.expireAt != 0 {
			ttl = k.e.expireAt - now
			if ttl < 0 {
				continue // expired meanwhile
			}
			ttl = max(ttl, 1)
		}
		payload, derr := dumpEntry(k.e)
		if derr != nil {
			continue
		}
		n := 4
		if replace {
			n = 5
		}
		buf = resp.AppendArrayLen(buf, n)
		buf = resp.AppendBulkString(buf, "RESTORE")
		buf = resp.AppendBulk(buf, k.key)
		buf = resp.AppendBulkInt(buf, ttl)
		buf = resp.AppendBulk(buf, payload)
		if replace {
			buf = resp.AppendBulkString(buf, "REPLACE")
		}
		sent = append(sent, k)
	}
	for off := 0; off < len(buf); {
		end := min(off+64<<10, len(buf))
		_ = ms.conn.SetWriteDeadline(time.Now().Add(timeout))
		n, werr := ms.conn.Write(buf[off:end])
		if werr != nil {
			return 0, "", true, netErr(werr)
		}
		off += n
	}
	readLine := func() (string, error) {
		_ = ms.conn.SetReadDeadline(time.Now().Add(timeout))
		line, rerr := ms.br.ReadSlice('\n')
		for rerr == bufio.ErrBufferFull { // only the start of an over-long line matters
			var more []byte
			more, rerr = ms.br.ReadSlice('\n')
			if len(line) < 1024 {
				line = append(line[:len(line):len(line)], more...)
			}
		}
		if rerr != nil {
			return "", netErr(rerr)
		}
		for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
			line = line[:len(line)-1]
		}
		return string(line), nil
	}
	var authReply, selReply string
	if len(auth) > 0 {
		if authReply, err = readLine(); err != nil {
			return 0, "", false, err
		}
	}
	if sel {
		if selReply, err = readLine(); err != nil {
			return 0, "", false, err
		}
	}
	isErr := func(l string) bool { return len(l) > 0 && l[0] == '-' }
	failed := ""
	var moved [][]byte
	for _, k := range sent {
		line, rerr := readLine()
		if rerr != nil {
			err = rerr
			break
		}
		replies++
		if isErr(authReply) || isErr(selReply) || isErr(line) {
			if failed == "" {
				switch {
				case isErr(authReply):
					failed = authReply[1:]
				case isErr(selReply):
					failed = selReply[1:]
				default:
					failed = line[1:]
				}
			}
			continue
		}
		if !copyKeys {
			c.db.Delete(k.key)
			c.notify(notifyGeneric, "del", k.key)
			moved = append(moved, k.key)
		}
	}
	if len(moved) > 0 {
		c.propagateInstead(append([][]byte{bDEL}, moved...)...)
	} else {
		c.propagateNothing()
	}
	if failed != "" {
		return replies, failed, false, errors.New(failed)
	}
	return replies, "", false, err
}

// netErr maps a network error to errMigrateTimeout when it is a timeout.
func netErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errMigrateTimeout
	}
	return err
}
