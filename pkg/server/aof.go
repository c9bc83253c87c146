package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// The append-only file, in Redis 7.0's multi-part layout.
//
// Files live in dir/appenddirname: one base file (an RDB image when
// aof-use-rdb-preamble is yes, else commands), then incr files of RESP
// commands, listed in order by the manifest <appendfilename>.manifest
// ("file <name> seq <n> type b|i|h"). The manifest is only ever replaced
// (temp file, fsync, rename), so the files it names are always a
// consistent history.
//
// Writing: the AOF subscribes to the propagation stream (addStreamFeed,
// propagate.go); the feed appends each command, with SELECT when its DB
// changes, to an in-memory buffer under Server.mu. The buffer is written
// to the current incr file outside Server.mu, by the client goroutine
// that produced it, at the end of its batch and before its replies are
// sent (the hook in client.serve: aofBatchEnd under the lock, then
// aofTicket.wait). With appendfsync always the wait also fsyncs: every
// client waiting at the same time is covered by one fsync (group
// commit), so a reply never leaves before the writes it acknowledges are
// on disk. With everysec a background goroutine fsyncs once a second;
// with no the OS decides. aofState.io serializes writers; the buffer has
// its own small lock (bmu) so the feed never waits for a disk write.
//
// Rewriting (aof_rewrite.go): under Server.mu the pending buffer is
// flushed into the current incr file, a new incr file is opened and
// listed in the manifest, and a point-in-time snapshot (snapshot.go)
// starts writing the new base to a temp file. Every write after that
// point goes to the new incr file, every write before it is in the
// snapshot: nothing is lost or doubled. When the snapshot is complete the
// temp file is renamed to the new base, the manifest switched to
// (new base, new incr), and the older files deleted.
//
// Loading (start-up with appendonly yes): the base then each incr file are
// replayed through a fake client; a base (or any file) starting with
// "REDIS" is an RDB image followed by optional commands. A truncated last
// command of the last file is cut off when aof-load-truncated is yes; any
// other damage stops the start with the file name and the offset.

// ErrLoadAOF is wrapped by the errors of loading the AOF at start-up.
var ErrLoadAOF = errors.New("server: cannot load the append only file")

type aofStatus int

const (
	aofOff         aofStatus = iota
	aofOn                    // writing the incr file listed in the manifest
	aofWaitRewrite           // enabled at run time: writing a temp incr until the first rewrite completes
)

// aofFile is one line of the manifest.
type aofFile struct {
	name string
	seq  int64
	typ  byte // 'b' base, 'i' incr, 'h' history
}

// aofManifest is the parsed manifest.
type aofManifest struct {
	base    *aofFile
	incrs   []aofFile
	history []aofFile
	baseSeq int64 // highest base seq used
	incrSeq int64 // highest incr seq used
}

// aofState is the AOF of a server. Fields are guarded by Server.mu unless
// noted.
type aofState struct {
	status   aofStatus
	dir      string // absolute append-only directory
	man      aofManifest
	tempIncr string // path of the temp incr file while aofWaitRewrite
	remove   func() // unsubscribes the feed
	db       int    // DB of the incr stream, -1: SELECT before the next command

	masterTxDB int // replica: DB of the commands queued in the master's MULTI

	curSize  int64 // aof_current_size: base + incr files (as written or buffered)
	baseSize int64 // aof_base_size: curSize after the last rewrite or load

	rw          *aofRewriteJob // rewrite in progress
	scheduled   bool           // BGREWRITEAOF scheduled
	lastTry     int64          // unix seconds of the last rewrite start
	rewrites    int64
	lastSecs    int64
	lastRwErr   bool
	consecFails int64
	lastCOW     int64
	tmpN        int64 // numbering of temp base files: an aborted job's cleanup never hits a newer one

	bmu      sync.Mutex   // guards buf (taken under Server.mu by the feed)
	buf      []byte       // bmu: commands not yet written
	appended atomic.Int64 // total bytes ever put into buf (written under bmu)

	io       sync.Mutex   // serializes writes, fsyncs and file switches
	f        *os.File     // io (switched with Server.mu and io held)
	spare    []byte       // io: the other buffer
	written  atomic.Int64 // io: bytes of appended that reached a file
	synced   atomic.Int64 // io: bytes of appended that were fsynced
	writeErr atomic.Bool  // last write or fsync failed (aof_last_write_status)
	delayed  atomic.Int64 // aof_delayed_fsync (always 0: fsyncs are not skipped)
	log      *slog.Logger
}

// aofConf reads an AOF directive kept in Config.extra (mu held).
func (s *Server) aofConf(name string) string {
	if v, ok := s.cfg.extra[name]; ok {
		return v
	}
	return harmlessDirectives[name]
}

func (s *Server) aofConfBool(name string) bool { return strings.EqualFold(s.aofConf(name), "yes") }

func (s *Server) aofConfInt(name string) int64 {
	n, ok := parseMemory(s.aofConf(name))
	if !ok {
		return 0
	}
	return n
}

// aofDirPath returns dir/appenddirname (mu held).
func (s *Server) aofDirPath() string {
	d := s.aofConf("appenddirname")
	if filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(s.cfg.Dir, d)
}

func (s *Server) aofState() *aofState {
	if s.aof == nil {
		s.aof = &aofState{db: -1, lastSecs: -1, log: s.log}
	}
	return s.aof
}

func (a *aofState) tmpSeq() int64 {
	a.tmpN++
	return a.tmpN
}

// Manifest.

func (s *Server) aofManifestName() string { return s.cfg.AppendFilename + ".manifest" }

func (s *Server) aofBaseName(seq int64, rdbPreamble bool) string {
	ext := ".base.aof"
	if rdbPreamble {
		ext = ".base.rdb"
	}
	return fmt.Sprintf("%s.%d%s", s.cfg.AppendFilename, seq, ext)
}

func (s *Server) aofIncrName(seq int64) string {
	return fmt.Sprintf("%s.%d.incr.aof", s.cfg.AppendFilename, seq)
}

// encode renders the manifest as Redis 7.0 writes it: base, history,
// incrs.
func (m *aofManifest) encode() []byte {
	var b bytes.Buffer
	line := func(f aofFile) {
		name := f.name
		if strings.ContainsAny(name, " \t\r\n\"'\\") {
			name = strconv.Quote(name)
		}
		fmt.Fprintf(&b, "file %s seq %d type %c\n", name, f.seq, f.typ)
	}
	if m.base != nil {
		line(*m.base)
	}
	for _, f := range m.history {
		line(f)
	}
	for _, f := range m.incrs {
		line(f)
	}
	return b.Bytes()
}

// parseAOFManifest parses a manifest; errors name the line.
func parseAOFManifest(data []byte) (aofManifest, error) {
	var m aofManifest
	for i, raw := range strings.Split(string(data), "\n") {
		ln := strings.TrimSpace(raw)
		if ln == "" || ln[0] == '#' {
			continue
		}
		fields, err := splitManifestLine(ln)
		if err != nil || len(fields)%2 != 0 {
			return m, fmt.Errorf("invalid AOF manifest file format at line %d", i+1)
		}
		var f aofFile
		for j := 0; j < len(fields); j += 2 {
			switch fields[j] {
			case "file":
				f.name = fields[j+1]
			case "seq":
				n, err := strconv.ParseInt(fields[j+1], 10, 64)
				if err != nil || n < 0 {
					return m, fmt.Errorf("invalid seq at line %d of the AOF manifest", i+1)
				}
				f.seq = n
			case "type":
				if len(fields[j+1]) != 1 || !strings.Contains("bih", fields[j+1]) {
					return m, fmt.Errorf("unknown AOF file type at line %d of the AOF manifest", i+1)
				}
				f.typ = fields[j+1][0]
			}
		}
		if f.name == "" || f.typ == 0 || strings.ContainsAny(f.name, "/\\") {
			return m, fmt.Errorf("invalid AOF manifest file format at line %d", i+1)
		}
		switch f.typ {
		case 'b':
			if m.base != nil {
				return m, fmt.Errorf("found duplicate base file information at line %d of the AOF manifest", i+1)
			}
			bf := f
			m.base = &bf
			m.baseSeq = max(m.baseSeq, f.seq)
		case 'i':
			if len(m.incrs) > 0 && f.seq <= m.incrs[len(m.incrs)-1].seq {
				return m, fmt.Errorf("found a non-monotonic sequence number at line %d of the AOF manifest", i+1)
			}
			m.incrs = append(m.incrs, f)
			m.incrSeq = max(m.incrSeq, f.seq)
		case 'h':
			m.history = append(m.history, f)
		}
	}
	if m.base == nil && len(m.incrs) == 0 {
		return m, errors.New("the AOF manifest lists no base and no incr file")
	}
	return m, nil
}

// splitManifestLine splits on blanks, honouring double-quoted names.
func splitManifestLine(ln string) ([]string, error) {
	var out []string
	for ln = strings.TrimLeft(ln, " \t"); ln != ""; ln = strings.TrimLeft(ln, " \t") {
		if ln[0] == '"' {
			q, err := strconv.QuotedPrefix(ln)
			if err != nil {
				return nil, err
			}
			v, _ := strconv.Unquote(q)
			out = append(out, v)
			ln = ln[len(q):]
			continue
		}
		end := strings.IndexAny(ln, " \t")
		if end < 0 {
			end = len(ln)
		}
		out = append(out, ln[:end])
		ln = ln[end:]
	}
	return out, nil
}

// writeAOFManifest replaces the manifest atomically (mu held).
func (s *Server) writeAOFManifest(dir string, m *aofManifest) error {
	path := filepath.Join(dir, s.aofManifestName())
	tmp := filepath.Join(dir, "temp-"+s.aofManifestName())
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("server: create %s: %w", tmp, err)
	}
	_, err = f.Write(m.encode())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("server: writing the AOF manifest %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// Writing.

// feed is the stream subscriber (mu held). PUBLISH is propagated to
// replicas only, as in Redis.
func (a *aofState) feed(db int, cmd []byte) {
	if isPublish(cmd) {
		return
	}
	a.bmu.Lock()
	n := len(a.buf)
	if db >= 0 && db != a.db {
		a.buf = resp.AppendCommand(a.buf, []byte("SELECT"), strconv.AppendInt(nil, int64(db), 10))
		a.db = db
	}
	a.buf = append(a.buf, cmd...)
	n = len(a.buf) - n
	a.appended.Add(int64(n))
	a.bmu.Unlock()
	a.curSize += int64(n)
}

// isPublish reports whether the RESP command cmd is PUBLISH.
func isPublish(cmd []byte) bool {
	i := bytes.IndexByte(cmd, '\n')
	if i < 0 {
		return false
	}
	rest := cmd[i+1:]
	return len(rest) >= 11 && string(rest[:4]) == "$7\r\n" && eqFold(rest[4:11], "publish")
}

// writeLocked writes the buffer to the current file (io held). On a
// short write the rest goes back in front of the buffer.
func (a *aofState) writeLocked() error {
	a.bmu.Lock()
	b := a.buf
	end := a.appended.Load()
	a.buf = a.spare[:0]
	a.bmu.Unlock()
	if len(b) == 0 {
		a.spare = b
		return nil
	}
	if a.f == nil { // between files or off: these writes are in the snapshot
		a.spare = b[:0]
		a.written.Store(end)
		a.synced.Store(end)
		return nil
	}
	n, err := a.f.Write(b)
	if err != nil {
		a.bmu.Lock()
		a.buf = append(append([]byte(nil), b[n:]...), a.buf...)
		a.bmu.Unlock()
		a.written.Add(int64(n))
		a.spare = nil
		return a.failed(fmt.Errorf("server: writing the AOF: %w", err))
	}
	a.written.Store(end)
	if cap(b) > 1<<20 {
		b = nil
	}
	a.spare = b[:0]
	return nil
}

// failed records a write or fsync error (io held), logged once until the
// next success.
func (a *aofState) failed(err error) error {
	if !a.writeErr.Swap(true) && a.log != nil {
		a.log.Warn("Error writing to the AOF file", "err", err)
	}
	return err
}

// syncLocked writes and fsyncs (io held).
func (a *aofState) syncLocked() error {
	if err := a.writeLocked(); err != nil {
		return err
	}
	w := a.written.Load()
	if a.f != nil && a.synced.Load() < w {
		if err := a.f.Sync(); err != nil {
			return a.failed(fmt.Errorf("server: fsync of the AOF: %w", err))
		}
	}
	a.synced.Store(w)
	a.writeErr.Store(false)
	return nil
}

// flushTo makes the first off bytes of the stream written (and fsynced
// with sync); whoever holds io covers every waiter's bytes at once.
func (a *aofState) flushTo(off int64, sync bool) error {
	a.io.Lock()
	defer a.io.Unlock()
	if sync {
		if a.synced.Load() >= off {
			return nil
		}
		return a.syncLocked()
	}
	if a.written.Load() >= off {
		return nil
	}
	err := a.writeLocked()
	if err == nil {
		a.writeErr.Store(false)
	}
	return err
}

// aofTicket is what a client waits for before sending its replies.
type aofTicket struct {
	a    *aofState
	off  int64
	sync bool
}

// aofBatchEnd is called by client.serve at the end of a batch, mu held:
// it returns the AOF position the batch's replies must wait for (zero
// ticket when the AOF is off or nothing is pending).
func (s *Server) aofBatchEnd() aofTicket {
	a := s.aof
	if a == nil || a.status == aofOff {
		return aofTicket{}
	}
	end := a.appended.Load()
	if s.cfg.AppendFsync == "always" {
		if end > a.synced.Load() {
			return aofTicket{a: a, off: end, sync: true}
		}
		return aofTicket{}
	}
	if end > a.written.Load() {
		return aofTicket{a: a, off: end}
	}
	return aofTicket{}
}

// wait writes (and with always fsyncs) up to the ticket, without
// Server.mu. false means the AOF could not be written: the replies must
// not be sent.
func (t aofTicket) wait() bool {
	if t.a == nil {
		return true
	}
	err := t.a.flushTo(t.off, t.sync)
	return err == nil || !t.sync
}

// aofLoop is the AOF's background goroutine: once a second it writes
// what the batches left (expired keys, ...) and, with everysec, fsyncs.
func (s *Server) aofLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.mu.Lock()
		a := s.aof
		if a == nil || a.status == aofOff {
			s.mu.Unlock()
			continue
		}
		end := a.appended.Load()
		sync := s.cfg.AppendFsync != "no"
		s.mu.Unlock()
		if err := a.flushTo(end, sync); err != nil {
			s.log.Warn("AOF write error", "err", err)
		}
	}
}

// aofFlushSync writes and fsyncs everything (mu held): SHUTDOWN, CONFIG
// SET appendonly no, file switches.
func (s *Server) aofFlushSync() error {
	a := s.aof
	if a == nil {
		return nil
	}
	a.io.Lock()
	defer a.io.Unlock()
	return a.syncLocked()
}

// aofSwitchFile flushes the pending buffer into the current file, fsyncs
// and closes it, and makes f the current file (mu held).
func (s *Server) aofSwitchFile(f *os.File) error {
	a := s.aof
	a.io.Lock()
	defer a.io.Unlock()
	err := a.syncLocked()
	if a.f != nil {
		a.f.Close()
	}
	a.f = f
	a.db = -1
	return err
}

// aofStopWriting stops the AOF (mu held): CONFIG SET appendonly no.
func (s *Server) aofStopWriting() {
	a := s.aof
	if a == nil || a.status == aofOff {
		return
	}
	if a.rw != nil {
		s.aofAbortRewrite("AOF turned off")
	}
	if err := s.aofSwitchFile(nil); err != nil {
		s.log.Warn("AOF write error while turning the AOF off", "err", err)
	}
	if a.remove != nil {
		a.remove()
		a.remove = nil
	}
	if a.tempIncr != "" {
		os.Remove(a.tempIncr)
		a.tempIncr = ""
	}
	a.status = aofOff
	s.log.Info("AOF turned off")
}

// aofRestartAfterSync is called by a replica after a full sync replaced
// the data set (mu held): the AOF no longer describes it, so it is
// rebuilt by a rewrite, as Redis's restartAOFAfterSYNC does.
func (s *Server) aofRestartAfterSync() {
	a := s.aof
	if a == nil || a.status == aofOff {
		return
	}
	s.aofStopWriting()
	if err := s.aofStartRuntime(); err != nil {
		s.log.Warn("Failed enabling the AOF after successful master synchronization", "err", err)
		s.cfg.AppendOnly = false
	}
}

// feedFromMaster passes one command a replica applied from its master's
// stream (raw, as received) to the stream feeds (mu held): writes with
// their DB; MULTI, EXEC and DISCARD with -1; the commands queued in a
// transaction (inMulti after applying) with the DB that the SELECTs
// queued before them give.
func (s *Server) feedFromMaster(argv [][]byte, raw []byte, changed, inMulti bool, curDB int) {
	r := s.repl
	var txDB *int
	if s.aof != nil {
		txDB = &s.aof.masterTxDB
	} else {
		txDB = new(int)
	}
	db := curDB
	switch {
	case eqFold(argv[0], "multi"):
		*txDB, db = curDB, -1
	case eqFold(argv[0], "exec") || eqFold(argv[0], "discard"):
		db = -1
	case inMulti:
		if eqFold(argv[0], "ping") || eqFold(argv[0], "replconf") {
			return
		}
		if eqFold(argv[0], "select") && len(argv) == 2 {
			if n, err := strconv.Atoi(string(argv[1])); err == nil {
				*txDB = n
			}
			return
		}
		db = *txDB
	case !changed:
		return
	}
	for _, f := range r.feeds {
		f.fn(db, raw)
	}
}

// aofSubscribe registers the feed (mu held).
func (s *Server) aofSubscribe() {
	a := s.aof
	if a.remove == nil {
		a.remove = s.addStreamFeed(a.feed)
	}
}

// aofApplyConfig follows CONFIG SET appendonly (mu held; nothing before
// Start, where loadAtStart decides).
func (s *Server) aofApplyConfig() {
	if !s.started.Load() || s.pst.loading {
		return
	}
	a := s.aof
	on := a != nil && a.status != aofOff
	switch {
	case s.cfg.AppendOnly && !on:
		s.aofState()
		if err := s.aofStartRuntime(); err != nil {
			s.log.Warn("Can't turn on the AOF", "err", err)
			s.cfg.AppendOnly = false
		}
	case !s.cfg.AppendOnly && on:
		s.aofStopWriting()
	}
}

// aofClose flushes, fsyncs and closes the AOF (Close, after every
// goroutine stopped).
func (s *Server) aofClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.aof
	if a == nil {
		return
	}
	if a.rw != nil {
		s.aofAbortRewrite("server closing")
	}
	if a.status != aofOff {
		if err := s.aofSwitchFile(nil); err != nil {
			s.log.Warn("AOF write error at close", "err", err)
		}
	}
}

// aofShutdown is SHUTDOWN's part (mu held): kill a rewrite, then write
// and fsync the AOF.
func (s *Server) aofShutdown() error {
	a := s.aof
	if a == nil || a.status == aofOff {
		return nil
	}
	if a.rw != nil {
		s.log.Warn("There is a child rewriting the AOF. Killing it!")
		s.aofAbortRewrite("shutdown")
	}
	s.log.Info("Calling fsync() on the AOF file.")
	return s.aofFlushSync()
}

// Start-up.

// aofLoadAtStart loads the AOF and opens it for appending (mu held, before
// the listeners open). Without a manifest (a fresh start) the base is
// written from the current, empty, data set as Redis 7.0 does; like Redis
// 7.0, an existing dump.rdb is then not loaded.
func (s *Server) aofLoadAtStart() error {
	a := s.aofState()
	a.dir = s.aofDirPath()
	manPath := filepath.Join(a.dir, s.aofManifestName())
	data, err := os.ReadFile(manPath)
	fresh := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if fresh, err = s.aofUpgradeOrCreate(); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("%w: %s: %w", ErrLoadAOF, manPath, err)
	default:
		m, err := parseAOFManifest(data)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrLoadAOF, manPath, err)
		}
		a.man = m
		if err := s.aofLoadFiles(); err != nil {
			return err
		}
	}
	return s.aofOpenAtStart(fresh)
}

// aofUpgradeOrCreate handles a missing manifest: an old single-file AOF
// (dir/appendfilename) becomes the base, else a new empty base is
// written.
func (s *Server) aofUpgradeOrCreate() (fresh bool, err error) {
	a := s.aof
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return false, fmt.Errorf("%w: can't create the AOF directory %s: %w", ErrLoadAOF, a.dir, err)
	}
	old := filepath.Join(s.cfg.Dir, s.cfg.AppendFilename)
	if fi, err := os.Stat(old); err == nil && fi.Mode().IsRegular() {
		a.man = aofManifest{base: &aofFile{name: s.cfg.AppendFilename, seq: 1, typ: 'b'}, baseSeq: 1}
		aofDir := a.dir
		a.dir = s.cfg.Dir // loaded where it is: moved only once loaded
		err := s.aofLoadFiles()
		a.dir = aofDir
		if err != nil {
			return false, err
		}
		if err := os.Rename(old, filepath.Join(a.dir, s.cfg.AppendFilename)); err != nil {
			return false, fmt.Errorf("%w: moving %s into %s: %w", ErrLoadAOF, old, a.dir, err)
		}
		if err := s.writeAOFManifest(a.dir, &a.man); err != nil {
			return false, fmt.Errorf("%w: %w", ErrLoadAOF, err)
		}
		s.log.Info("Successfully migrated an old-style AOF into the AOF directory", "file", old)
		return false, nil
	}
	if _, err := os.Stat(s.rdbPath()); err == nil && s.cfg.DBFilename != "" {
		s.log.Warn("appendonly is yes and no AOF exists: the RDB file is not loaded (as Redis 7.0)", "rdb", s.rdbPath())
	}
	a.man = aofManifest{baseSeq: 1}
	name := s.aofBaseName(1, s.aofConfBool("aof-use-rdb-preamble"))
	s.log.Info("Creating AOF base file on server start", "file", name)
	tmp := filepath.Join(a.dir, "temp-"+name)
	if err := s.writeAOFBaseSync(tmp, filepath.Join(a.dir, name)); err != nil {
		return false, fmt.Errorf("%w: %w", ErrLoadAOF, err)
	}
	a.man.base = &aofFile{name: name, seq: 1, typ: 'b'}
	return true, nil
}

// aofOpenAtStart opens the last incr file for appending (creating one if
// the manifest has none) and starts feeding it (mu held).
func (s *Server) aofOpenAtStart(fresh bool) error {
	a := s.aof
	var name string
	if n := len(a.man.incrs); n > 0 {
		name = a.man.incrs[n-1].name
		s.log.Info("Opening AOF incr file on server start", "file", name)
	} else {
		a.man.incrSeq++
		name = s.aofIncrName(a.man.incrSeq)
		a.man.incrs = append(a.man.incrs, aofFile{name: name, seq: a.man.incrSeq, typ: 'i'})
		s.log.Info("Creating AOF incr file on server start", "file", name)
	}
	f, err := os.OpenFile(filepath.Join(a.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLoadAOF, err)
	}
	if err := s.writeAOFManifest(a.dir, &a.man); err != nil {
		f.Close()
		return fmt.Errorf("%w: %w", ErrLoadAOF, err)
	}
	a.f = f
	a.db = -1
	a.curSize = s.aofFilesSize()
	if !fresh {
		a.baseSize = a.curSize // Redis leaves it 0 after creating the first base
	}
	a.status = aofOn
	s.aofSubscribe()
	return nil
}

// aofFilesSize sums the sizes of the files of the manifest (mu held).
func (s *Server) aofFilesSize() int64 {
	a := s.aof
	var n int64
	add := func(f aofFile) {
		if fi, err := os.Stat(filepath.Join(a.dir, f.name)); err == nil {
			n += fi.Size()
		}
	}
	if a.man.base != nil {
		add(*a.man.base)
	}
	for _, f := range a.man.incrs {
		add(f)
	}
	return n
}

// Loading.

// aofLoadFiles replays the base and incr files of the manifest (mu held).
func (s *Server) aofLoadFiles() error {
	a := s.aof
	files := a.man.incrs
	if a.man.base != nil {
		files = append([]aofFile{*a.man.base}, files...)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(a.dir, f.name)); err != nil {
			return fmt.Errorf("%w: %s listed in the manifest: %w", ErrLoadAOF, f.name, err)
		}
	}
	start := time.Now()
	s.pst.loading = true
	// Loading replays writes as their origin did: no replica read-only
	// refusal, no eviction.
	saved := *s.cfg
	s.cfg.ReplicaOfHost, s.cfg.MaxMemory = "", 0
	ncmds := s.st.numCommands
	defer func() {
		s.cfg.ReplicaOfHost, s.cfg.MaxMemory = saved.ReplicaOfHost, saved.MaxMemory
		s.st.numCommands = ncmds
		s.pst.loading = false
	}()
	var keys int64
	for i, f := range files {
		path := filepath.Join(a.dir, f.name)
		t0 := time.Now()
		n, err := s.aofLoadFile(path, i == len(files)-1)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrLoadAOF, err)
		}
		keys += n
		kind := "incr"
		if f.typ == 'b' {
			kind = "base"
		}
		s.log.Info("DB loaded from "+kind+" file", "file", f.name, "seconds", time.Since(t0).Seconds())
	}
	s.ks.dirty = 0
	s.pst.loadLoaded = keys
	s.log.Info("DB loaded from append only file", "seconds", time.Since(start).Seconds())
	return nil
}

// errAOFTruncated marks an AOF that ends in the middle of a command.
var errAOFTruncated = errors.New("unexpected end of file")

// aofReader parses RESP commands from an AOF, counting offsets.
type aofReader struct {
	br  *bufio.Reader
	off int64
}

// next returns the next command; io.EOF at a clean end, errAOFTruncated
// in the middle of a command, another error for bad format.
func (r *aofReader) next() ([][]byte, error) {
	// Annotations ("#TS:..." with aof-timestamp-enabled) are skipped.
	for {
		b, err := r.br.Peek(1)
		if err != nil || b[0] != '#' {
			break
		}
		line, err := r.br.ReadSlice('\n')
		r.off += int64(len(line))
		if err != nil {
			return nil, errAOFTruncated
		}
	}
	n, err := r.header('*')
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 1<<20 {
		return nil, fmt.Errorf("bad file format: invalid number of arguments %d", n)
	}
	argv := make([][]byte, n)
	for i := range argv {
		l, err := r.header('$')
		if err == io.EOF {
			return nil, errAOFTruncated
		}
		if err != nil {
			return nil, err
		}
		if l < 0 || l > 1<<32 {
			return nil, fmt.Errorf("bad file format: invalid bulk length %d", l)
		}
		b := make([]byte, l+2)
		m, err := io.ReadFull(r.br, b)
		r.off += int64(m)
		if err != nil {
			return nil, errAOFTruncated
		}
		if b[l] != '\r' || b[l+1] != '\n' {
			return nil, errors.New("bad file format: bulk string not terminated by CRLF")
		}
		argv[i] = b[:l:l]
	}
	return argv, nil
}

// header reads "<c><number>\r\n".
func (r *aofReader) header(c byte) (int64, error) {
	line, err := r.br.ReadSlice('\n')
	r.off += int64(len(line))
	if err != nil {
		if err == io.EOF && len(line) == 0 && c == '*' {
			return 0, io.EOF
		}
		if err == io.EOF {
			return 0, errAOFTruncated
		}
		return 0, fmt.Errorf("bad file format: %w", err)
	}
	if len(line) < 4 || line[0] != c || line[len(line)-2] != '\r' {
		return 0, fmt.Errorf("bad file format: expected '%c', got %q", c, truncQ(line))
	}
	n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad file format: %q", truncQ(line))
	}
	return n, nil
}

func truncQ(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

// aofLoadFile replays one file (mu held) and returns the keys loaded from
// an RDB preamble. last: a truncated tail may be cut off.
func (s *Server) aofLoadFile(path string, last bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var keys int64
	var start int64
	head := make([]byte, 5)
	if n, _ := io.ReadFull(f, head); n == 5 && string(head) == "REDIS" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		st, err := s.loadRDB(f)
		if err != nil {
			return 0, fmt.Errorf("%s: error reading the RDB preamble: %w", path, err)
		}
		keys, start = st.loaded, st.end
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return 0, err
	}
	r := &aofReader{br: bufio.NewReaderSize(f, 64<<10), off: start}
	fake := &client{s: s, authed: true, resp: 2, db: s.ks.dbs[0], addr: "aof", laddr: "aof"}
	valid := start // end of the last complete command
	beforeMulti := int64(-1)
	for {
		argv, err := r.next()
		if err == io.EOF {
			if !fake.inMulti {
				return keys, nil
			}
			// A transaction without its EXEC: the tail of a crash.
			err = errAOFTruncated
			valid = beforeMulti
		}
		if err == errAOFTruncated {
			if !last || !s.aofConfBool("aof-load-truncated") {
				return keys, fmt.Errorf("%s: unexpected end of file at offset %d (a command is incomplete); "+
					"make a backup of the AOF, then use redis-check-aof --fix on the manifest, or set aof-load-truncated yes", path, valid)
			}
			s.log.Warn("!!! Warning: short read while loading the AOF file !!!", "file", path)
			s.log.Warn("!!! Truncating the AOF at offset !!!", "file", path, "offset", valid)
			if terr := os.Truncate(path, valid); terr != nil {
				return keys, fmt.Errorf("%s: truncating at offset %d: %w", path, valid, terr)
			}
			s.log.Warn("AOF loaded anyway because aof-load-truncated is enabled", "file", path)
			return keys, nil
		}
		if err != nil {
			return keys, fmt.Errorf("%s: %w at offset %d", path, err, valid)
		}
		cmd := lookupCommand(argv[0])
		if cmd == nil {
			return keys, fmt.Errorf("%s: unknown command '%.64s' at offset %d", path, argv[0], valid)
		}
		if cmd.Name == "multi" && !fake.inMulti {
			beforeMulti = valid
		}
		fake.process(argv)
		fake.out = fake.out[:0]
		valid = r.off
	}
}

// writeAOFBaseSync writes the data set as a base file (mu held), RDB or
// commands after aof-use-rdb-preamble.
func (s *Server) writeAOFBaseSync(tmp, path string) error {
	if s.aofConfBool("aof-use-rdb-preamble") {
		return s.writeRDBFile(tmp, path)
	}
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = s.rewriteCommandsSync(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// infoAOF writes the aof_* fields of INFO persistence (mu held).
func (s *Server) infoAOF(w func(string, ...any)) {
	a := s.aof
	if a == nil {
		a = &aofState{lastSecs: -1}
	}
	cur := int64(-1)
	if a.rw != nil {
		cur = int64(time.Since(a.rw.start).Seconds())
	}
	status := func(err bool) string {
		if err {
			return "err"
		}
		return "ok"
	}
	w("aof_enabled:%d", b2i(a.status != aofOff))
	w("aof_rewrite_in_progress:%d", b2i(a.rw != nil))
	w("aof_rewrite_scheduled:%d", b2i(a.scheduled))
	w("aof_last_rewrite_time_sec:%d", a.lastSecs)
	w("aof_current_rewrite_time_sec:%d", cur)
	w("aof_last_bgrewrite_status:%s", status(a.lastRwErr))
	w("aof_rewrites:%d", a.rewrites)
	w("aof_rewrites_consecutive_failures:%d", a.consecFails)
	w("aof_last_write_status:%s", status(a.writeErr.Load()))
	w("aof_last_cow_size:%d", a.lastCOW)
	w("module_fork_in_progress:0")
	w("module_fork_last_cow_size:0")
	if a.status != aofOff {
		a.bmu.Lock()
		buffered := len(a.buf)
		a.bmu.Unlock()
		w("aof_current_size:%d", a.curSize)
		w("aof_base_size:%d", a.baseSize)
		w("aof_pending_rewrite:%d", b2i(a.scheduled))
		w("aof_buffer_length:%d", buffered)
		w("aof_pending_bio_fsync:0")
		w("aof_delayed_fsync:%d", a.delayed.Load())
	}
}
