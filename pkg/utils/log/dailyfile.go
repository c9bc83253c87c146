package log

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// DailyFile is an io.WriteCloser that appends to PATH.YYYY-MM-DD, switching
// to a new file at local midnight. It is safe for concurrent use.
type DailyFile struct {
	path string
	now  func() time.Time // injectable clock

	mu     sync.Mutex // protects the fields below
	f      *os.File
	next   time.Time // start of the day after the open file's day
	closed bool
}

// OpenDailyFile opens (creating or appending to) today's file for path.
// The directory must exist.
func OpenDailyFile(path string) (*DailyFile, error) {
	return openDailyFile(path, time.Now)
}

func openDailyFile(path string, now func() time.Time) (*DailyFile, error) {
	d := &DailyFile{path: path, now: now}
	if err := d.rotate(now()); err != nil {
		return nil, err
	}
	return d, nil
}

// Name returns the name of the file currently written.
func (d *DailyFile) Name() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return ""
	}
	return d.f.Name()
}

// Write implements io.Writer. If opening the next day's file fails, the
// write goes to the current file and the switch is retried on the next
// write.
func (d *DailyFile) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, os.ErrClosed
	}
	if t := d.now(); !t.Before(d.next) {
		_ = d.rotate(t) // on failure keep writing to the old file
	}
	return d.f.Write(p)
}

// Close closes the current file. Later writes fail with os.ErrClosed.
func (d *DailyFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.f.Close()
}

// rotate opens the file for t's day and closes the previous one. The
// caller holds d.mu (or owns d exclusively).
func (d *DailyFile) rotate(t time.Time) error {
	name := d.path + "." + t.Format("2006-01-02")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	if d.f != nil {
		d.f.Close()
	}
	d.f = f
	y, m, day := t.Date()
	d.next = time.Date(y, m, day+1, 0, 0, 0, 0, t.Location())
	return nil
}
