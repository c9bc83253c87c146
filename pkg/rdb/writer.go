package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// RDB opcodes.
const (
	opFunction2    = 0xF5
	opFunctionPre  = 0xF6
	opModuleAux    = 0xF7
	opIdle         = 0xF8
	opFreq         = 0xF9
	opAux          = 0xFA
	opResizeDB     = 0xFB
	opExpireTimeMs = 0xFC
	opExpireTime   = 0xFD
	opSelectDB     = 0xFE
	opEOF          = 0xFF
)

// ErrWriterClosed is returned by Writer methods after Close.
var ErrWriterClosed = errors.New("rdb: writer closed")

// WriterOptions configures a Writer. The zero value is the default.
type WriterOptions struct {
	// Version is the RDB version written in the header, 1 to
	// MaxRDBVersion; 0 means RDBVersion (7), which Redis 3.2 and all later
	// versions load. Values are always written with the classic types.
	Version int
	// NoCompress disables LZF compression of strings longer than 20
	// bytes (like "rdbcompression no").
	NoCompress bool
	// NoChecksum writes a zero checksum (like "rdbchecksum no").
	NoChecksum bool
}

// Writer streams an RDB file. Records are encoded into an internal buffer
// that is written out in large chunks, so the underlying writer needs no
// buffering of its own. The header is written by the first record. Writer
// is not safe for concurrent use; errors are sticky.
type Writer struct {
	w        io.Writer
	buf      []byte
	crc      uint64
	version  int
	compress bool
	checksum bool
	started  bool
	closed   bool
	err      error
	written  int64
}

const writerFlushAt = 64 << 10

// NewWriter returns a Writer writing to w; it performs no I/O.
func NewWriter(w io.Writer, opts *WriterOptions) *Writer {
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	if o.Version == 0 {
		o.Version = RDBVersion
	}
	wr := &Writer{
		w:        w,
		buf:      make([]byte, 0, writerFlushAt+4096),
		version:  o.Version,
		compress: !o.NoCompress,
		checksum: !o.NoChecksum,
	}
	if o.Version < 1 || o.Version > MaxRDBVersion {
		wr.err = fmt.Errorf("rdb: unsupported RDB version %d", o.Version)
	}
	return wr
}

// Written returns the number of bytes handed to the underlying writer.
func (w *Writer) Written() int64 { return w.written }

func (w *Writer) begin() bool {
	if w.err != nil {
		return false
	}
	if w.closed {
		w.err = ErrWriterClosed
		return false
	}
	if !w.started {
		w.started = true
		w.buf = fmt.Appendf(w.buf, "REDIS%04d", w.version)
	}
	return true
}

func (w *Writer) end() error {
	if w.err == nil && len(w.buf) >= writerFlushAt {
		w.flush()
	}
	return w.err
}

func (w *Writer) flush() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	w.crc = UpdateCRC64(w.crc, w.buf)
	n, err := w.w.Write(w.buf)
	w.written += int64(n)
	if err == nil && n != len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("rdb: write: %w", err)
	}
	if cap(w.buf) > 16*writerFlushAt {
		w.buf = make([]byte, 0, writerFlushAt+4096) // drop a huge value's buffer
	} else {
		w.buf = w.buf[:0]
	}
}

// WriteAux writes an auxiliary field (opcode 0xFA). Integer-looking values
// are stored int-encoded, as Redis does.
func (w *Writer) WriteAux(key, value string) error {
	if !w.begin() {
		return w.err
	}
	w.buf = append(w.buf, opAux)
	w.buf = appendString(w.buf, []byte(key), false)
	w.buf = appendString(w.buf, []byte(value), false)
	return w.end()
}

// WriteAuxInt writes an integer auxiliary field.
func (w *Writer) WriteAuxInt(key string, v int64) error {
	return w.WriteAux(key, strconv.FormatInt(v, 10))
}

// WriteStandardAux writes the auxiliary fields every Redis RDB starts
// with: redis-ver, redis-bits, ctime and used-mem. Replication fields
// (repl-id, repl-offset, repl-stream-db) are written by the caller with
// WriteAux/WriteAuxInt when relevant.
func (w *Writer) WriteStandardAux(redisVer string, now time.Time, usedMem int64) error {
	w.WriteAux("redis-ver", redisVer)
	w.WriteAuxInt("redis-bits", 64)
	w.WriteAuxInt("ctime", now.Unix())
	return w.WriteAuxInt("used-mem", usedMem)
}

// SelectDB starts the records of database db.
func (w *Writer) SelectDB(db int) error {
	if !w.begin() {
		return w.err
	}
	if db < 0 {
		w.err = fmt.Errorf("rdb: negative db %d", db)
		return w.err
	}
	w.buf = appendLen(append(w.buf, opSelectDB), uint64(db))
	return w.end()
}

// ResizeDB writes the size hint of the current database.
func (w *Writer) ResizeDB(keys, expires uint64) error {
	if !w.begin() {
		return w.err
	}
	w.buf = appendLen(append(w.buf, opResizeDB), keys)
	w.buf = appendLen(w.buf, expires)
	return w.end()
}

// WriteKey writes one key. expireAtMs is the absolute expiry in Unix
// milliseconds, 0 for none.
func (w *Writer) WriteKey(key []byte, o *Object, expireAtMs int64) error {
	if !w.begin() {
		return w.err
	}
	start := len(w.buf)
	if expireAtMs != 0 {
		w.buf = binary.LittleEndian.AppendUint64(append(w.buf, opExpireTimeMs), uint64(expireAtMs))
	}
	t, ok := objectType(o.Kind)
	if !ok {
		w.buf = w.buf[:start]
		return badf("cannot encode object of %v", o.Kind) // not sticky
	}
	w.buf = append(w.buf, t)
	w.buf = appendString(w.buf, key, w.compress)
	w.buf = appendBody(w.buf, o, w.compress)
	return w.end()
}

// Close writes the EOF opcode and checksum and flushes. It does not close
// the underlying writer. Calling Close again returns the first error.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	if !w.begin() {
		w.closed = true
		return w.err
	}
	w.closed = true
	w.buf = append(w.buf, opEOF)
	if w.version >= 5 { // the checksum covers everything before itself
		sum := UpdateCRC64(w.crc, w.buf)
		if !w.checksum {
			sum = 0
		}
		w.buf = binary.LittleEndian.AppendUint64(w.buf, sum)
	}
	w.flush()
	return w.err
}
