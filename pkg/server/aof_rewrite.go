package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// AOF rewrite: BGREWRITEAOF, auto-aof-rewrite-*, CONFIG SET appendonly yes
// (see the file comment of aof.go for the protocol).

func init() {
	register(&Command{Name: "bgrewriteaof", Arity: 1, Flags: FlagAdmin | FlagNoScript, Proc: bgrewriteaofCommand})
}

var errAOFRewriteRunning = errors.New("Background append only file rewriting already in progress")

// aofRewriteRetryDelay is how long the cron waits before retrying a
// failed scheduled rewrite (seconds).
const aofRewriteRetryDelay = 5

// aofRewriteItems is the number of elements per command of a command
// base (Redis's AOF_REWRITE_ITEMS_PER_CMD).
const aofRewriteItems = 64

// aofRewriteJob is one rewrite in progress.
type aofRewriteJob struct {
	sn       *snapshot
	f        *os.File // temp base file
	tmp      string
	start    time.Time
	mode     aofStatus // AOF status when it started
	incr     aofFile   // mode aofOn: the incr file opened at the snapshot point
	preamble bool      // base as RDB
	aborted  bool
	pw       *io.PipeWriter // !preamble: the snapshot's RDB goes to the converter
	conv     chan error     // !preamble: the converter's result
}

func bgrewriteaofCommand(c *client, argv [][]byte) {
	s := c.s
	a := s.aofState()
	switch {
	case a.rw != nil:
		c.addError("ERR " + errAOFRewriteRunning.Error())
	case s.ks.snap != nil || c.inExec:
		a.scheduled = true
		a.consecFails = 0
		c.addSimple("Background append only file rewriting scheduled")
	default:
		if err := s.aofStartRewrite(); err != nil {
			s.log.Warn("Can't rewrite the append only file in background", "err", err)
			c.addError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
			return
		}
		c.addSimple("Background append only file rewriting started")
	}
}

// aofStartRuntime turns the AOF on at run time (CONFIG SET appendonly
// yes): the AOF becomes valid when its first rewrite completes (mu held).
func (s *Server) aofStartRuntime() error {
	a := s.aof
	a.dir = s.aofDirPath()
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return fmt.Errorf("server: can't create the AOF directory %s: %w", a.dir, err)
	}
	if a.rw != nil {
		s.aofAbortRewrite("AOF turned on: restarting the rewrite")
	}
	a.status = aofWaitRewrite
	if s.ks.snap != nil {
		a.scheduled = true
		s.log.Info("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
		return nil
	}
	if err := s.aofStartRewrite(); err != nil {
		s.aofStopWriting()
		return err
	}
	return nil
}

// aofLoadManifestIfNeeded reads the manifest from disk when this server
// has none in memory (AOF off since start), so sequence numbers go on
// (mu held).
func (s *Server) aofLoadManifestIfNeeded() {
	a := s.aof
	if a.man.base != nil || len(a.man.incrs) > 0 || a.man.baseSeq > 0 {
		return
	}
	data, err := os.ReadFile(filepath.Join(a.dir, s.aofManifestName()))
	if err != nil {
		return
	}
	if m, err := parseAOFManifest(data); err == nil {
		a.man = m
	}
}

// aofStartRewrite starts a background rewrite (mu held).
func (s *Server) aofStartRewrite() error {
	a := s.aofState()
	if a.rw != nil {
		return errAOFRewriteRunning
	}
	if s.ks.snap != nil {
		return errSnapshotRunning
	}
	now := time.Now()
	a.lastTry = now.Unix()
	if a.status == aofOff {
		a.dir = s.aofDirPath()
	}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return fmt.Errorf("server: can't create the AOF directory %s: %w", a.dir, err)
	}
	s.aofLoadManifestIfNeeded()
	job := &aofRewriteJob{start: now, mode: a.status, preamble: s.aofConfBool("aof-use-rdb-preamble"),
		tmp: filepath.Join(s.cfg.Dir, fmt.Sprintf("temp-rewriteaof-bg-%d-%d.aof", os.Getpid(), a.tmpSeq()))}
	f, err := os.Create(job.tmp)
	if err != nil {
		return fmt.Errorf("server: opening the temp AOF base file %s: %w", job.tmp, err)
	}
	job.f = f
	fail := func(err error) error {
		f.Close()
		os.Remove(job.tmp)
		a.lastRwErr = true
		a.consecFails++
		return err
	}
	// The snapshot point: writes from here on go to a new incr file.
	switch a.status {
	case aofOn:
		seq := a.man.incrSeq + 1
		name := s.aofIncrName(seq)
		nf, err := os.OpenFile(filepath.Join(a.dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fail(fmt.Errorf("server: creating the AOF incr file %s: %w", name, err))
		}
		nm := a.man
		nm.incrs = append(append([]aofFile(nil), a.man.incrs...), aofFile{name: name, seq: seq, typ: 'i'})
		nm.incrSeq = seq
		if err := s.writeAOFManifest(a.dir, &nm); err != nil {
			nf.Close()
			os.Remove(filepath.Join(a.dir, name))
			return fail(err)
		}
		a.man = nm
		if err := s.aofSwitchFile(nf); err != nil {
			s.log.Warn("AOF write error before the rewrite", "err", err)
		}
		job.incr = nm.incrs[len(nm.incrs)-1]
		s.log.Info("Creating AOF incr file on background rewrite", "file", name)
	case aofWaitRewrite:
		_ = s.aofSwitchFile(nil) // a previous attempt's temp incr
		path := filepath.Join(a.dir, "temp-"+s.cfg.AppendFilename+".incr")
		nf, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fail(fmt.Errorf("server: creating the temp AOF incr file %s: %w", path, err))
		}
		_ = s.aofSwitchFile(nf)
		a.tempIncr = path
		s.aofSubscribe()
		s.log.Info("Creating AOF incr file on background rewrite", "file", filepath.Base(path))
	}
	var out io.Writer = f
	if !job.preamble {
		pr, pw := io.Pipe()
		job.pw, job.conv = pw, make(chan error, 1)
		out = pw
		s.goroutine(func() { job.conv <- convertRDBToCommands(pr, f) })
	}
	sn, err := s.beginSnapshot(out, s.rdbAux(), func(err error) { s.aofRewriteDone(job, err) })
	if err != nil {
		if job.pw != nil {
			job.pw.CloseWithError(err)
			<-job.conv
		}
		return fail(err)
	}
	job.sn = sn
	a.rw = job
	a.scheduled = false
	a.rewrites++
	s.log.Info("Background append only file rewriting started")
	return nil
}

// aofAbortRewrite cancels the rewrite in progress (mu held).
func (s *Server) aofAbortRewrite(why string) {
	a := s.aof
	job := a.rw
	if job == nil {
		return
	}
	job.aborted = true
	job.sn.abort(errSnapshotAborted)
	a.rw = nil
	s.log.Info("Background AOF rewrite aborted", "reason", why)
}

// aofRewriteDone finishes a rewrite; called by the snapshot goroutine
// without mu.
func (s *Server) aofRewriteDone(job *aofRewriteJob, err error) {
	if job.pw != nil {
		job.pw.CloseWithError(err)
		if cerr := <-job.conv; err == nil {
			err = cerr
		}
	}
	if err == nil {
		if err = job.f.Sync(); err != nil {
			err = fmt.Errorf("server: fsync %s: %w", job.tmp, err)
		}
	}
	if cerr := job.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	s.mu.Lock()
	a := s.aof
	if job.aborted || a.rw != job || a.status != job.mode {
		if a.rw == job {
			a.rw = nil
		}
		s.mu.Unlock()
		os.Remove(job.tmp)
		return
	}
	a.rw = nil
	a.lastSecs = int64(time.Since(job.start).Seconds())
	a.lastCOW = job.sn.cowBytes
	var stale []string
	if err == nil {
		s.log.Info("Background AOF rewrite terminated with success")
		stale, err = s.aofInstallRewrite(job)
	}
	if err != nil {
		a.lastRwErr = true
		a.consecFails++
		if a.status == aofWaitRewrite {
			a.scheduled = true // the AOF is not valid until a rewrite succeeds
		}
		s.mu.Unlock()
		os.Remove(job.tmp)
		s.log.Warn("Background AOF rewrite error", "err", err)
		return
	}
	a.lastRwErr = false
	a.consecFails = 0
	s.mu.Unlock()
	for _, p := range stale {
		s.log.Info("Removing the history file", "file", filepath.Base(p))
		os.Remove(p)
	}
	s.log.Info("Background AOF rewrite finished successfully")
}

// aofInstallRewrite renames the new base into place and switches the
// manifest (mu held); it returns the files no longer listed.
func (s *Server) aofInstallRewrite(job *aofRewriteJob) ([]string, error) {
	a := s.aof
	seq := a.man.baseSeq + 1
	name := s.aofBaseName(seq, job.preamble)
	if err := os.Rename(job.tmp, filepath.Join(a.dir, name)); err != nil {
		return nil, fmt.Errorf("server: renaming the temp AOF base file %s: %w", job.tmp, err)
	}
	s.log.Info("Successfully renamed the temporary AOF base file", "from", filepath.Base(job.tmp), "to", name)
	nm := aofManifest{base: &aofFile{name: name, seq: seq, typ: 'b'}, baseSeq: seq, incrSeq: a.man.incrSeq}
	switch job.mode {
	case aofOn:
		nm.incrs = []aofFile{job.incr}
	case aofWaitRewrite:
		iseq := a.man.incrSeq + 1
		iname := s.aofIncrName(iseq)
		if err := os.Rename(a.tempIncr, filepath.Join(a.dir, iname)); err != nil {
			return nil, fmt.Errorf("server: renaming the temp AOF incr file %s: %w", a.tempIncr, err)
		}
		s.log.Info("Successfully renamed the temporary AOF incr file", "to", iname)
		a.tempIncr = ""
		nm.incrs = []aofFile{{name: iname, seq: iseq, typ: 'i'}}
		nm.incrSeq = iseq
	}
	if err := s.writeAOFManifest(a.dir, &nm); err != nil {
		return nil, err
	}
	keep := map[string]bool{name: true}
	for _, f := range nm.incrs {
		keep[f.name] = true
	}
	var stale []string
	old := append(append([]aofFile(nil), a.man.incrs...), a.man.history...)
	if a.man.base != nil {
		old = append(old, *a.man.base)
	}
	for _, f := range old {
		if !keep[f.name] {
			stale = append(stale, filepath.Join(a.dir, f.name))
		}
	}
	a.man = nm
	if job.mode == aofWaitRewrite {
		a.status = aofOn
	}
	if a.status != aofOff {
		a.curSize = s.aofFilesSize() + a.appended.Load() - a.written.Load()
		a.baseSize = a.curSize
	}
	return stale, nil
}

// aofCron starts scheduled and automatic rewrites (mu held).
func (s *Server) aofCron(now time.Time) {
	a := s.aof
	if a == nil || a.rw != nil || s.ks.snap != nil || s.pst.bg != nil {
		return
	}
	if a.scheduled {
		if a.lastRwErr && now.Unix()-a.lastTry < aofRewriteRetryDelay {
			return
		}
		if err := s.aofStartRewrite(); err != nil {
			s.log.Warn("Can't start the scheduled AOF rewrite", "err", err)
		}
		return
	}
	if a.status != aofOn {
		return
	}
	perc := s.aofConfInt("auto-aof-rewrite-percentage")
	if perc <= 0 || a.curSize <= s.aofConfInt("auto-aof-rewrite-min-size") {
		return
	}
	if a.lastRwErr && now.Unix()-a.lastTry < aofRewriteRetryDelay {
		return
	}
	base := max(a.baseSize, 1)
	if growth := a.curSize*100/base - 100; growth >= perc {
		s.log.Info("Starting automatic rewriting of AOF", "growth_percent", growth)
		if err := s.aofStartRewrite(); err != nil {
			s.log.Warn("Can't start the automatic AOF rewrite", "err", err)
		}
	}
}

// Command bases.

// appendEntryCommands appends the commands that rebuild one key, as
// Redis's rewrite writes them (RPUSH, SADD, ZADD, HMSET in runs of 64
// elements; SET; then PEXPIREAT).
func appendEntryCommands(dst, key []byte, o *rdb.Object, expireAt int64) []byte {
	args := make([][]byte, 0, 2+2*aofRewriteItems)
	run := func(cmd string, items [][]byte, per int) {
		for len(items) > 0 {
			n := min(len(items), aofRewriteItems*per)
			args = append(args[:0], []byte(cmd), key)
			args = append(args, items[:n]...)
			dst = resp.AppendCommand(dst, args...)
			items = items[n:]
		}
	}
	switch o.Kind {
	case rdb.KindString:
		dst = resp.AppendCommand(dst, []byte("SET"), key, o.Str)
	case rdb.KindList:
		run("RPUSH", o.List, 1)
	case rdb.KindSet:
		run("SADD", o.Set, 1)
	case rdb.KindZSet:
		items := make([][]byte, 0, 2*len(o.ZSet))
		for _, m := range o.ZSet {
			items = append(items, aofScore(m.Score), m.Member)
		}
		run("ZADD", items, 2)
	case rdb.KindHash:
		items := make([][]byte, 0, 2*len(o.Hash))
		for _, f := range o.Hash {
			items = append(items, f.Name, f.Value)
		}
		run("HMSET", items, 2)
	}
	if expireAt != 0 {
		dst = resp.AppendCommand(dst, []byte("PEXPIREAT"), key, strconv.AppendInt(nil, expireAt, 10))
	}
	return dst
}

// aofScore renders a score so that ZADD reads it back exactly.
func aofScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64)
}

// convertRDBToCommands reads an RDB stream and writes the commands that
// rebuild it to w (a command base: aof-use-rdb-preamble no). It drains r
// to its end so the writer never blocks.
func convertRDBToCommands(r *io.PipeReader, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cur := -1
	var buf []byte
	err := rdb.NewReader(r).Run(rdb.Handlers{Key: func(e *rdb.Entry) error {
		buf = buf[:0]
		if e.DB != cur {
			buf = resp.AppendCommand(buf, []byte("SELECT"), strconv.AppendInt(nil, int64(e.DB), 10))
			cur = e.DB
		}
		buf = appendEntryCommands(buf, e.Key, &e.Value, e.ExpireAt)
		_, err := bw.Write(buf)
		return err
	}})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		r.CloseWithError(err)
		return err
	}
	_, _ = io.Copy(io.Discard, r)
	return nil
}

// rewriteCommandsSync writes the data set as commands (mu held).
func (s *Server) rewriteCommandsSync(w io.Writer) error {
	var buf []byte
	for _, db := range s.ks.dbs {
		if db.nkeys == 0 {
			continue
		}
		buf = resp.AppendCommand(buf[:0], []byte("SELECT"), strconv.AppendInt(nil, int64(db.id), 10))
		if _, err := w.Write(buf); err != nil {
			return err
		}
		for i := range db.shards {
			for k, e := range db.shards[i].keys {
				o, err := entryRDB(e)
				if err != nil {
					return fmt.Errorf("key '%s': %w", k, err)
				}
				buf = appendEntryCommands(buf[:0], []byte(k), &o, e.expireAt)
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
