package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits and defaults, as in Redis 7.0.
const (
	// DefaultMaxBulkLen is Redis's proto-max-bulk-len default (512MB).
	DefaultMaxBulkLen = 512 << 20
	// MaxMultiBulkLen is the largest accepted argument count of one request.
	MaxMultiBulkLen = 1024 * 1024
	// MaxInlineSize bounds an inline request line and the "*N" / "$N" count
	// lines (PROTO_INLINE_MAX_SIZE).
	MaxInlineSize = 64 * 1024
	// unauthMultiBulk and unauthBulk are the stricter limits Redis applies
	// before a client has authenticated.
	unauthMultiBulk = 10
	unauthBulk      = 16384
	// DefaultBufSize is the initial (and steady-state) read buffer size.
	DefaultBufSize = 16 * 1024
	// maxIdleBuf: a buffer grown beyond this for one large frame is dropped
	// back to DefaultBufSize once it is empty.
	maxIdleBuf = 64 * 1024
)

// ProtocolError is a malformed request. Its Error text is what Redis sends
// after "ERR ", e.g. "Protocol error: invalid bulk length". After one, the
// connection must be closed; the Parser keeps returning it.
type ProtocolError struct {
	Msg string // text after "Protocol error: "
}

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// Is makes errors.Is match protocol errors by message.
func (e *ProtocolError) Is(target error) bool {
	t, ok := target.(*ProtocolError)
	return ok && t.Msg == e.Msg
}

// Protocol error sentinels (compare with errors.Is).
var (
	ErrInvalidMultibulkLength = &ProtocolError{"invalid multibulk length"}
	ErrInvalidBulkLength      = &ProtocolError{"invalid bulk length"}
	ErrTooBigInline           = &ProtocolError{"too big inline request"}
	ErrTooBigMbulkCount       = &ProtocolError{"too big mbulk count string"}
	ErrTooBigBulkCount        = &ProtocolError{"too big bulk count string"}
	ErrUnbalancedQuotes       = &ProtocolError{"unbalanced quotes in request"}
	ErrUnauthMultibulkLength  = &ProtocolError{"unauthenticated multibulk length"}
	ErrUnauthBulkLength       = &ProtocolError{"unauthenticated bulk length"}
)

// errExpectedDollar builds "expected '$', got 'x'" (the byte is sent raw, as
// Redis does; writers replace CR/LF in error texts).
func errExpectedDollar(c byte) error {
	return &ProtocolError{fmt.Sprintf("expected '$', got '%c'", c)}
}

// ErrQueryBufferLimit is returned by Fill and ReadCommand when one request
// needs more than MaxBuffer bytes.
var ErrQueryBufferLimit = errors.New("resp: query buffer limit reached")

var errNoReader = errors.New("resp: parser has no reader")

// Parser parses client requests. See the package doc for the lifetime of the
// returned arguments.
type Parser struct {
	rd  io.Reader
	buf []byte
	r   int // start of unconsumed data (== frame start while in a frame)
	w   int // end of valid data

	// MaxBulkLen is proto-max-bulk-len; <= 0 means DefaultMaxBulkLen.
	MaxBulkLen int64
	// Unauthenticated enables Redis's stricter pre-AUTH limits
	// (at most 10 arguments, bulks of at most 16384 bytes).
	Unauthenticated bool
	// MaxBuffer bounds the bytes buffered for one incomplete request
	// (client-query-buffer-limit); 0 means unlimited. Fill returns
	// ErrQueryBufferLimit when a request would need more.
	MaxBuffer int

	// state of the multibulk frame being parsed; positions are relative
	// to r so they survive compaction.
	inFrame bool
	nargs   int   // expected argument count
	pos     int   // next unparsed byte, relative to r
	bulkLen int64 // length of the current bulk, -1 while reading its header
	offs    []int // start/end pairs of parsed arguments, relative to r

	argv   [][]byte
	inline []byte // scratch holding unescaped inline arguments
	err    error  // sticky protocol or I/O error
}

// NewParser returns a parser reading from rd with the default limits.
func NewParser(rd io.Reader) *Parser {
	return &Parser{rd: rd, bulkLen: -1}
}

// Reset points the parser at new input and forgets any buffered data.
func (p *Parser) Reset(rd io.Reader) {
	p.rd = rd
	p.r, p.w = 0, 0
	p.inFrame = false
	p.bulkLen = -1
	p.offs = p.offs[:0]
	p.err = nil
}

// Buffered reports how many unconsumed bytes are buffered. A server flushes
// its replies when this is zero (pipelining).
func (p *Parser) Buffered() int { return p.w - p.r }

// Feed appends data to the buffer (used by tests and by callers that do their
// own reads). It is equivalent to a Read returning data.
func (p *Parser) Feed(data []byte) {
	p.makeRoom(len(data))
	p.w += copy(p.buf[p.w:], data)
}

// ReadCommand returns the next request, reading as needed. An empty request
// (e.g. "*0\r\n" or an empty inline line) is skipped. On a protocol error the
// returned error is a *ProtocolError; otherwise it is the reader's error.
func (p *Parser) ReadCommand() ([][]byte, error) {
	for {
		argv, err := p.Next()
		if err != nil || argv != nil {
			return argv, err
		}
		if err := p.Fill(); err != nil {
			return nil, err
		}
	}
}

// Fill performs one read into the buffer, compacting or growing it first.
func (p *Parser) Fill() error {
	if p.err != nil {
		return p.err
	}
	if p.rd == nil {
		return errNoReader
	}
	if p.MaxBuffer > 0 && p.w-p.r >= p.MaxBuffer {
		p.err = ErrQueryBufferLimit
		return p.err
	}
	p.makeRoom(0)
	n, err := p.rd.Read(p.buf[p.w:])
	p.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// makeRoom ensures at least extra (or, if zero, some useful amount of) free
// space after w, by dropping consumed bytes, shrinking an oversized idle
// buffer or growing the buffer.
func (p *Parser) makeRoom(extra int) {
	if p.buf == nil {
		p.buf = make([]byte, max(DefaultBufSize, extra))
	}
	if p.r == p.w {
		p.r, p.w = 0, 0
		if len(p.buf) > maxIdleBuf && extra <= DefaultBufSize {
			p.buf = make([]byte, DefaultBufSize)
		}
	}
	need := extra
	if need == 0 {
		need = 1
		// A bulk whose header is parsed tells us how much the frame needs.
		if p.inFrame && p.bulkLen >= 0 {
			need = max(1, p.pos+int(p.bulkLen)+2-(p.w-p.r))
		}
	}
	if len(p.buf)-p.w >= need {
		return
	}
	if p.r > 0 { // compact: the only copy of a frame spanning reads
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
		if len(p.buf)-p.w >= need {
			return
		}
	}
	size := max(2*len(p.buf), p.w+need)
	nb := make([]byte, size)
	copy(nb, p.buf[:p.w])
	p.buf = nb
}

func (p *Parser) maxBulk() int64 {
	if p.MaxBulkLen > 0 {
		return p.MaxBulkLen
	}
	return DefaultMaxBulkLen
}

// Next parses the next complete request from buffered data without reading.
// It returns (nil, nil) when more data is needed. Arguments are valid until
// the next call of Next, Fill, Feed or ReadCommand.
func (p *Parser) Next() ([][]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	for p.r < p.w || p.inFrame {
		var argv [][]byte
		var done bool
		var err error
		if p.inFrame || p.buf[p.r] == '*' {
			argv, done, err = p.parseMultibulk()
		} else {
			argv, done, err = p.parseInline()
		}
		if err != nil {
			p.err = err
			return nil, err
		}
		if !done {
			return nil, nil
		}
		if len(argv) > 0 {
			return argv, nil
		}
	}
	return nil, nil
}

// parseInt is Redis's string2ll: optional '-', no '+', no leading zeros,
// no spaces, fits in int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// ParseInt parses a decimal the way Redis's string2ll does.
func ParseInt(b []byte) (int64, bool) { return parseInt(b) }

// countLine finds a "<prefix><digits>\r?" line starting at abs and returns
// the index of its '\r', or -1 if more data is needed. Like Redis, the byte
// after '\r' is assumed to be '\n' but must be present.
func (p *Parser) countLine(abs int, tooBig error) (int, error) {
	data := p.buf[abs:p.w]
	i := bytes.IndexByte(data, '\r')
	if i < 0 {
		if len(data) > MaxInlineSize {
			return -1, tooBig
		}
		return -1, nil
	}
	if i > MaxInlineSize {
		return -1, tooBig
	}
	if i+2 > len(data) {
		return -1, nil
	}
	return abs + i, nil
}

func (p *Parser) parseMultibulk() ([][]byte, bool, error) {
	if !p.inFrame {
		cr, err := p.countLine(p.r, ErrTooBigMbulkCount)
		if err != nil || cr < 0 {
			return nil, false, err
		}
		n, ok := parseInt(p.buf[p.r+1 : cr])
		if !ok || n > MaxMultiBulkLen {
			return nil, false, ErrInvalidMultibulkLength
		}
		if n > unauthMultiBulk && p.Unauthenticated {
			return nil, false, ErrUnauthMultibulkLength
		}
		if n <= 0 { // empty request: consumed silently
			p.r = cr + 2
			return nil, true, nil
		}
		p.inFrame = true
		p.nargs = int(n)
		p.pos = cr + 2 - p.r
		p.bulkLen = -1
		p.offs = p.offs[:0]
	}
	for len(p.offs) < 2*p.nargs {
		abs := p.r + p.pos
		if p.bulkLen < 0 {
			if abs >= p.w {
				return nil, false, nil
			}
			cr, err := p.countLine(abs, ErrTooBigBulkCount)
			if err != nil || cr < 0 {
				return nil, false, err
			}
			if p.buf[abs] != '$' {
				return nil, false, errExpectedDollar(p.buf[abs])
			}
			n, ok := parseInt(p.buf[abs+1 : cr])
			if !ok || n < 0 || n > p.maxBulk() {
				return nil, false, ErrInvalidBulkLength
			}
			if n > unauthBulk && p.Unauthenticated {
				return nil, false, ErrUnauthBulkLength
			}
			p.bulkLen = n
			p.pos = cr + 2 - p.r
			abs = cr + 2
		}
		if int64(p.w-abs) < p.bulkLen+2 {
			return nil, false, nil
		}
		p.offs = append(p.offs, p.pos, p.pos+int(p.bulkLen))
		p.pos += int(p.bulkLen) + 2
		p.bulkLen = -1
	}
	argv := p.argv[:0]
	for i := 0; i < len(p.offs); i += 2 {
		s, e := p.r+p.offs[i], p.r+p.offs[i+1]
		argv = append(argv, p.buf[s:e:e])
	}
	p.argv = argv
	p.r += p.pos
	p.inFrame = false
	return argv, true, nil
}

func (p *Parser) parseInline() ([][]byte, bool, error) {
	data := p.buf[p.r:p.w]
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		if len(data) > MaxInlineSize {
			return nil, false, ErrTooBigInline
		}
		return nil, false, nil
	}
	if nl > MaxInlineSize {
		return nil, false, ErrTooBigInline
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	argv, scratch, ok := splitArgs(p.argv[:0], p.inline[:0], line)
	if !ok {
		return nil, false, ErrUnbalancedQuotes
	}
	p.argv, p.inline = argv, scratch
	p.r += nl + 1
	return argv, true, nil
}
