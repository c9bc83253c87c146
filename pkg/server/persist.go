package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
)

// RDB persistence: SAVE, BGSAVE, save rules, loading at start-up (see
// "# Persistence" in doc.go and snapshot.go for the background snapshot).

func init() {
	register(
		&Command{Name: "save", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Proc: saveCommand},
		&Command{Name: "bgsave", Arity: -1, Flags: FlagAdmin | FlagNoScript, Proc: bgsaveCommand},
	)
}

// ErrLoad is wrapped by the errors of loading an RDB file at start-up.
var ErrLoad = errors.New("server: cannot load the RDB file")

var (
	errBgsaveInProgress = errors.New("Background save already in progress")
	errOtherChild       = errors.New("Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
)

// bgsaveRetryDelay is how long save rules wait after a failed BGSAVE
// (Redis's CONFIG_BGSAVE_RETRY_DELAY).
const bgsaveRetryDelay = 5 // seconds

// persistState is the RDB state of a server, guarded by Server.mu.
type persistState struct {
	bg             *bgsaveJob // BGSAVE in progress
	bgScheduled    bool       // BGSAVE SCHEDULE pending
	bgSeq          int        // temp file numbering
	lastBgsaveErr  bool       // rdb_last_bgsave_status:err
	lastBgsaveTry  int64      // unix seconds of the last BGSAVE attempt
	lastBgsaveSecs int64      // rdb_last_bgsave_time_sec
	saves          int64      // rdb_saves
	lastCOW        int64      // rdb_last_cow_size
	loading        bool
	loadExpired    int64 // rdb_last_load_keys_expired
	loadLoaded     int64 // rdb_last_load_keys_loaded
	lateCOW        int   // mutations that escaped the snapshot hooks (must stay 0)
}

// bgsaveJob is one BGSAVE: a snapshot written to a temp file renamed over
// the dump file on success.
type bgsaveJob struct {
	sn          *snapshot
	f           *os.File
	tmp, path   string
	start       time.Time
	dirtyBefore int64
	aborted     bool
}

// rdbPath returns the dump file path (mu held).
func (s *Server) rdbPath() string { return filepath.Join(s.cfg.Dir, s.cfg.DBFilename) }

func saveCommand(c *client, argv [][]byte) {
	s := c.s
	if s.pst.bg != nil {
		c.addError("ERR " + errBgsaveInProgress.Error())
		return
	}
	if err := s.rdbSaveSync(); err != nil {
		c.addError("ERR")
		return
	}
	s.pst.saves++
	c.addOK()
}

func bgsaveCommand(c *client, argv [][]byte) {
	schedule := false
	if len(argv) > 1 {
		if len(argv) != 2 || !eqFold(argv[1], "schedule") {
			c.addError(errSyntax)
			return
		}
		schedule = true
	}
	s := c.s
	switch {
	case s.pst.bg != nil:
		c.addError("ERR " + errBgsaveInProgress.Error())
	case s.ks.snap != nil || c.inExec:
		if schedule || c.inExec {
			s.pst.bgScheduled = true
			c.addSimple("Background saving scheduled")
			return
		}
		c.addError("ERR " + errOtherChild.Error())
	default:
		if err := s.startBgsave(); err != nil {
			c.addError("ERR")
			return
		}
		c.addSimple("Background saving started")
	}
}

// rdbAux returns the auxiliary fields written after the standard ones
// (mu held); the replication code sets Server.rdbAuxFn to add repl-id and
// repl-offset.
func (s *Server) rdbAux() [][2]string {
	if s.rdbAuxFn != nil {
		return s.rdbAuxFn()
	}
	return nil
}

// rdbSaveSync writes the whole keyspace to the dump file (SAVE, SHUTDOWN,
// FLUSHALL), mu held. The file is written to a temp file, synced and
// renamed, as Redis does.
func (s *Server) rdbSaveSync() error {
	path := s.rdbPath()
	tmp := filepath.Join(s.cfg.Dir, fmt.Sprintf("temp-%d.rdb", os.Getpid()))
	err := s.writeRDBFile(tmp, path)
	if err != nil {
		s.log.Warn("Error saving DB on disk", "err", err)
		return err
	}
	s.ks.dirty = 0
	s.lastSave = time.Now().Unix()
	s.pst.lastBgsaveErr = false
	s.log.Info("DB saved on disk")
	return nil
}

func (s *Server) writeRDBFile(tmp, path string) (err error) {
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("server: failed opening the temp RDB file %s for saving: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	wr := rdb.NewWriter(f, s.rdbWriterOptions())
	if err := s.writeRDBHeader(wr, s.rdbAux()); err != nil {
		return err
	}
	for _, db := range s.ks.dbs {
		if db.nkeys == 0 {
			continue
		}
		wr.SelectDB(db.id)
		wr.ResizeDB(uint64(db.nkeys), uint64(db.nvol))
		for i := range db.shards {
			if _, err := writeShardKeys(wr, &db.shards[i]); err != nil {
				return err
			}
		}
	}
	if err := wr.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("server: fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("server: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("server: rename %s to %s: %w", tmp, path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable; errors are ignored, as some file
// systems do not support it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// startBgsave starts a BGSAVE (mu held).
func (s *Server) startBgsave() error {
	if s.pst.bg != nil {
		return errBgsaveInProgress
	}
	if s.ks.snap != nil {
		return errOtherChild
	}
	now := time.Now()
	s.pst.lastBgsaveTry = now.Unix()
	s.pst.bgSeq++
	job := &bgsaveJob{
		path:        s.rdbPath(),
		tmp:         filepath.Join(s.cfg.Dir, fmt.Sprintf("temp-%d-%d.rdb", os.Getpid(), s.pst.bgSeq)),
		start:       now,
		dirtyBefore: s.ks.dirty,
	}
	f, err := os.Create(job.tmp)
	if err != nil {
		s.pst.lastBgsaveErr = true
		err = fmt.Errorf("server: failed opening the temp RDB file %s for saving: %w", job.tmp, err)
		s.log.Warn("Can't save in background", "err", err)
		return err
	}
	job.f = f
	sn, err := s.beginSnapshot(f, s.rdbAux(), func(err error) { s.bgsaveDone(job, err) })
	if err != nil {
		f.Close()
		os.Remove(job.tmp)
		s.pst.lastBgsaveErr = true
		s.log.Warn("Can't save in background", "err", err)
		return err
	}
	job.sn = sn
	s.pst.bg = job
	s.pst.bgScheduled = false
	s.pst.saves++
	s.log.Info("Background saving started")
	return nil
}

// bgsaveDone finishes a BGSAVE; called by the snapshot goroutine without
// mu held.
func (s *Server) bgsaveDone(job *bgsaveJob, err error) {
	if err == nil {
		if err = job.f.Sync(); err != nil {
			err = fmt.Errorf("server: fsync %s: %w", job.tmp, err)
		}
	}
	if cerr := job.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("server: close %s: %w", job.tmp, cerr)
	}
	s.mu.Lock()
	if job.aborted || s.pst.bg != job {
		s.mu.Unlock()
		os.Remove(job.tmp)
		return
	}
	if err == nil {
		// Under mu: no SAVE or other BGSAVE can rename concurrently.
		if rerr := os.Rename(job.tmp, job.path); rerr != nil {
			err = fmt.Errorf("server: rename %s to %s: %w", job.tmp, job.path, rerr)
		}
	}
	s.pst.bg = nil
	s.pst.lastBgsaveSecs = int64(time.Since(job.start).Seconds())
	s.pst.lastCOW = job.sn.cowBytes
	if err == nil {
		s.ks.dirty -= job.dirtyBefore
		s.lastSave = time.Now().Unix()
		s.pst.lastBgsaveErr = false
	} else {
		s.pst.lastBgsaveErr = true
	}
	s.mu.Unlock()
	if err != nil {
		os.Remove(job.tmp)
		s.log.Warn("Background saving error", "err", err)
		return
	}
	syncDir(filepath.Dir(job.path))
	s.log.Info("Background saving terminated with success")
}

// abortBgsave cancels a running BGSAVE (mu held): FLUSHALL and SHUTDOWN,
// like Redis killing its child. The status is left as it was.
func (s *Server) abortBgsave() {
	job := s.pst.bg
	if job == nil {
		return
	}
	job.aborted = true
	job.sn.abort(errSnapshotAborted)
	s.pst.bg = nil
	s.log.Info("Background saving aborted")
}

// saveRule is one "save <seconds> <changes>" rule.
type saveRule struct{ secs, changes int64 }

func parseSaveRules(v string) []saveRule {
	f := strings.Fields(v)
	var out []saveRule
	for i := 0; i+1 < len(f); i += 2 {
		secs, err1 := strconv.ParseInt(f[i], 10, 64)
		ch, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 == nil && err2 == nil {
			out = append(out, saveRule{secs, ch})
		}
	}
	return out
}

// persistCron starts a BGSAVE when a save rule (or BGSAVE SCHEDULE) asks
// for one; called by the cron with mu held.
func (s *Server) persistCron(now time.Time) {
	s.aofCron(now)
	if s.pst.bg != nil || s.ks.snap != nil {
		return
	}
	unix := now.Unix()
	canRetry := !s.pst.lastBgsaveErr || unix-s.pst.lastBgsaveTry > bgsaveRetryDelay
	if !canRetry {
		return
	}
	if s.pst.bgScheduled {
		_ = s.startBgsave()
		return
	}
	for _, r := range parseSaveRules(s.cfg.Save) {
		if s.ks.dirty >= r.changes && unix-s.lastSave > r.secs {
			s.log.Info("starting BGSAVE for save rule", "changes", r.changes, "seconds", r.secs)
			_ = s.startBgsave()
			return
		}
	}
}

// prepareShutdown is Redis's prepareForShutdown for RDB (mu held): a
// running BGSAVE is aborted and, with save rules (or SAVE) and without
// NOSAVE, the data set is saved. With force a failed save does not stop
// the shutdown.
func (s *Server) prepareShutdown(nosave, save, force bool) error {
	if s.pst.bg != nil {
		s.log.Warn("There is a child saving an .rdb. Killing it!")
		s.abortBgsave()
	}
	if err := s.aofShutdown(); err != nil {
		s.log.Warn("Fail to fsync the AOF file", "err", err)
	}
	if (s.cfg.Save != "" && !nosave) || save {
		s.log.Info("Saving the final RDB snapshot before exiting.")
		if err := s.rdbSaveSync(); err != nil {
			if !force {
				s.log.Warn("Error trying to save the DB, can't exit.", "err", err)
				return err
			}
			s.log.Warn("Error trying to save the DB. Exit anyway.", "err", err)
		}
	}
	return nil
}

// SaveBeforeShutdown does what SHUTDOWN without arguments does before
// exiting (for SIGTERM/SIGINT): it stops a BGSAVE and saves the data set
// if save rules are configured.
func (s *Server) SaveBeforeShutdown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prepareShutdown(false, false, false)
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// loadStats are the counts of one RDB load.
type loadStats struct {
	loaded, expired int64
	aux             map[string]string
	end             int64 // offset just past the RDB (an AOF may go on with commands)
}

// loadRDB loads an RDB stream into the keyspace (mu held), which should be
// empty: a key present twice is an error, as in Redis. On a master, keys
// already expired are skipped. The error names the offset where reading
// stopped.
func (s *Server) loadRDB(r io.Reader) (loadStats, error) {
	st := loadStats{aux: map[string]string{}}
	cr := &countingReader{r: r}
	rd := rdb.NewReader(cr)
	s.updateClock()
	now := s.ks.now
	master := s.cfg.ReplicaOfHost == ""
	ndb := len(s.ks.dbs)
	lim := s.encLimits()
	// Loaded keys are not "new" events (Redis adds them without
	// notifying: start-up, DEBUG RELOAD, a replica's full sync).
	flags := s.ks.ev.flags
	s.ks.ev.flags = 0
	defer func() { s.ks.ev.flags = flags }()
	err := rd.Run(rdb.Handlers{
		Aux: func(k, v []byte) error {
			st.aux[string(k)] = string(v)
			return nil
		},
		Key: func(e *rdb.Entry) error {
			if e.DB >= ndb {
				return fmt.Errorf("the file uses DB %d but the server is configured with %d databases", e.DB, ndb)
			}
			if master && e.ExpireAt != 0 && e.ExpireAt <= now {
				st.expired++
				return nil
			}
			db := s.ks.dbs[e.DB]
			if db.peek(e.Key) != nil {
				return fmt.Errorf("duplicate key '%s' found in the RDB file", e.Key)
			}
			ent, err := entryFromRDBLim(&e.Value, &lim)
			if err != nil {
				return fmt.Errorf("key '%s': %w", e.Key, err)
			}
			ent.expireAt = e.ExpireAt
			db.Add(e.Key, ent)
			if e.Idle >= 0 {
				ent.lru = s.ks.lruClock - uint32(min(e.Idle, int64(s.ks.lruClock)))
			}
			if e.Freq >= 0 {
				ent.freq = uint8(min(e.Freq, 255))
			}
			st.loaded++
			return nil
		},
	})
	if err != nil {
		off := cr.n - int64(len(rd.Buffered()))
		return st, fmt.Errorf("offset %d: %w", off, err)
	}
	st.end = cr.n - int64(len(rd.Buffered()))
	return st, nil
}

// loadAtStart checks the working directory and loads the dump file if it
// exists (before the listeners open).
func (s *Server) loadAtStart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fi, err := os.Stat(s.cfg.Dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("server: can't chdir to '%s': %w", s.cfg.Dir, err)
	}
	if s.cfg.AppendOnly {
		return s.aofLoadAtStart() // aof.go: the AOF wins over the RDB file
	}
	if s.cfg.DBFilename == "" {
		return nil
	}
	path := s.rdbPath()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrLoad, path, err)
	}
	defer f.Close()
	start := time.Now()
	s.pst.loading = true
	st, err := s.loadRDB(f)
	s.pst.loading = false
	s.pst.loadLoaded, s.pst.loadExpired = st.loaded, st.expired
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrLoad, path, err)
	}
	s.ks.dirty = 0
	s.log.Info("DB loaded from disk", "seconds", time.Since(start).Seconds(),
		"keys", st.loaded, "expired", st.expired)
	return nil
}

// infoPersistence writes the RDB fields of INFO persistence (mu held).
func (s *Server) infoPersistence(w func(string, ...any)) {
	var cur, done, total int64
	var perc float64
	bgSecs := int64(-1)
	if sn := s.ks.snap; sn != nil {
		cur = sn.cowBytes
		done, total = sn.progress()
		if total > 0 {
			perc = float64(done) * 100 / float64(total)
		}
	}
	if bg := s.pst.bg; bg != nil {
		bgSecs = int64(time.Since(bg.start).Seconds())
	}
	status := "ok"
	if s.pst.lastBgsaveErr {
		status = "err"
	}
	w("loading:%d", b2i(s.pst.loading))
	w("async_loading:0")
	w("current_cow_peak:%d", cur)
	w("current_cow_size:%d", cur)
	w("current_cow_size_age:0")
	w("current_fork_perc:%.2f", perc)
	w("current_save_keys_processed:%d", done)
	w("current_save_keys_total:%d", total)
	w("rdb_changes_since_last_save:%d", s.ks.dirty)
	w("rdb_bgsave_in_progress:%d", b2i(s.pst.bg != nil))
	w("rdb_last_save_time:%d", s.lastSave)
	w("rdb_last_bgsave_status:%s", status)
	w("rdb_last_bgsave_time_sec:%d", s.pst.lastBgsaveSecs)
	w("rdb_current_bgsave_time_sec:%d", bgSecs)
	w("rdb_saves:%d", s.pst.saves)
	w("rdb_last_cow_size:%d", s.pst.lastCOW)
	w("rdb_last_load_keys_expired:%d", s.pst.loadExpired)
	w("rdb_last_load_keys_loaded:%d", s.pst.loadLoaded)
}

// protectedConfigAllowed applies enable-protected-configs to CONFIG SET of
// dir and dbfilename (mu held).
func (s *Server) protectedConfigAllowed(c *client) bool {
	v, ok := s.cfg.extra["enable-protected-configs"]
	if !ok {
		v = harmlessDirectives["enable-protected-configs"]
	}
	switch strings.ToLower(v) {
	case "yes":
		return true
	case "local":
		host, _, err := net.SplitHostPort(c.addr)
		ip := net.ParseIP(host)
		return err == nil && ip != nil && ip.IsLoopback()
	}
	return false
}

// checkDirValue validates CONFIG SET dir like Redis's chdir and returns the
// absolute directory.
func (s *Server) checkDirValue(v string) (string, error) {
	dir := v
	if !filepath.IsAbs(dir) {
		base, err := filepath.Abs(s.cfg.Dir)
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "", errors.New(strerror(pe.Err))
		}
		return "", err
	}
	if !fi.IsDir() {
		return "", errors.New("Not a directory")
	}
	return dir, nil
}

// strerror renders an errno like C's strerror ("No such file or
// directory").
func strerror(err error) string {
	t := err.Error()
	if t != "" {
		t = strings.ToUpper(t[:1]) + t[1:]
	}
	return t
}
