package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind is the type of a reply.
type Kind byte

// Reply kinds, named by their RESP prefix byte.
const (
	KindSimple    Kind = '+'
	KindError     Kind = '-'
	KindInt       Kind = ':'
	KindBulk      Kind = '$'
	KindArray     Kind = '*'
	KindNull      Kind = '_' // RESP3 null
	KindDouble    Kind = ','
	KindBool      Kind = '#'
	KindBigNumber Kind = '('
	KindVerbatim  Kind = '='
	KindBlobError Kind = '!'
	KindMap       Kind = '%'
	KindSet       Kind = '~'
	KindPush      Kind = '>'
	KindAttribute Kind = '|'
)

// Reply is one decoded reply. Str holds simple, error, bulk, double, big
// number and verbatim payloads; Int holds integers and booleans (0/1); Elems
// holds aggregates (maps as alternating key, value). Nil is set for the
// RESP2 null bulk and null array ($-1, *-1) and for RESP3 null.
type Reply struct {
	Kind  Kind
	Str   string
	Int   int64
	Elems []Reply
	Nil   bool
}

// String renders the reply unambiguously on one line, for comparisons and
// test failure messages, e.g. `[1 "a" (nil) ERR:"ERR x"]`.
func (r Reply) String() string {
	var sb strings.Builder
	r.write(&sb)
	return sb.String()
}

func (r Reply) write(sb *strings.Builder) {
	if r.Nil {
		if r.Kind == KindArray {
			sb.WriteString("(nil-array)")
		} else {
			sb.WriteString("(nil)")
		}
		return
	}
	switch r.Kind {
	case KindSimple:
		sb.WriteString("+" + r.Str)
	case KindError, KindBlobError:
		sb.WriteString("ERR:" + strconv.Quote(r.Str))
	case KindInt, KindBool:
		sb.WriteString(strconv.FormatInt(r.Int, 10))
	case KindArray, KindMap, KindSet, KindPush:
		sb.WriteByte('[')
		for i, e := range r.Elems {
			if i > 0 {
				sb.WriteByte(' ')
			}
			e.write(sb)
		}
		sb.WriteByte(']')
	default:
		sb.WriteString(strconv.Quote(r.Str))
	}
}

// IsError reports whether the reply is an error.
func (r Reply) IsError() bool { return r.Kind == KindError || r.Kind == KindBlobError }

// ErrBadReply is returned for input that is not valid RESP.
var ErrBadReply = errors.New("resp: malformed reply")

// ReplyReader decodes replies from a stream.
type ReplyReader struct {
	br *bufio.Reader
	// MaxBulkLen bounds bulk lengths and aggregate sizes; <= 0 means
	// DefaultMaxBulkLen.
	MaxBulkLen int64
}

// NewReplyReader returns a reader over rd.
func NewReplyReader(rd io.Reader) *ReplyReader {
	return &ReplyReader{br: bufio.NewReaderSize(rd, 16*1024)}
}

// Buffered reports how many bytes are buffered.
func (rr *ReplyReader) Buffered() int { return rr.br.Buffered() }

func (rr *ReplyReader) line() ([]byte, error) {
	l, err := rr.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line too long", ErrBadReply)
		}
		return nil, err
	}
	if len(l) < 3 || l[len(l)-2] != '\r' {
		return nil, fmt.Errorf("%w: %q", ErrBadReply, l)
	}
	return l[:len(l)-2], nil
}

// ReadReply reads one complete reply.
func (rr *ReplyReader) ReadReply() (Reply, error) {
	l, err := rr.line()
	if err != nil {
		return Reply{}, err
	}
	k, rest := Kind(l[0]), l[1:]
	limit := rr.MaxBulkLen
	if limit <= 0 {
		limit = DefaultMaxBulkLen
	}
	switch k {
	case KindSimple, KindError, KindDouble, KindBigNumber:
		return Reply{Kind: k, Str: string(rest)}, nil
	case KindNull:
		return Reply{Kind: k, Nil: true}, nil
	case KindInt:
		n, ok := parseInt(rest)
		if !ok {
			return Reply{}, fmt.Errorf("%w: bad integer %q", ErrBadReply, rest)
		}
		return Reply{Kind: k, Int: n}, nil
	case KindBool:
		if len(rest) != 1 || (rest[0] != 't' && rest[0] != 'f') {
			return Reply{}, fmt.Errorf("%w: bad boolean %q", ErrBadReply, rest)
		}
		r := Reply{Kind: k}
		if rest[0] == 't' {
			r.Int = 1
		}
		return r, nil
	case KindBulk, KindVerbatim, KindBlobError:
		n, ok := parseInt(rest)
		if !ok || n < -1 || n > limit {
			return Reply{}, fmt.Errorf("%w: bad bulk length %q", ErrBadReply, rest)
		}
		if n == -1 {
			return Reply{Kind: k, Nil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rr.br, buf); err != nil {
			return Reply{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Reply{}, fmt.Errorf("%w: bulk not terminated by CRLF", ErrBadReply)
		}
		return Reply{Kind: k, Str: string(buf[:n])}, nil
	case KindArray, KindMap, KindSet, KindPush, KindAttribute:
		n, ok := parseInt(rest)
		if !ok || n < -1 || n > limit {
			return Reply{}, fmt.Errorf("%w: bad aggregate length %q", ErrBadReply, rest)
		}
		if n == -1 {
			return Reply{Kind: k, Nil: true}, nil
		}
		if k == KindMap || k == KindAttribute {
			n *= 2
		}
		r := Reply{Kind: k, Elems: make([]Reply, 0, min(n, 1024))}
		for i := int64(0); i < n; i++ {
			e, err := rr.ReadReply()
			if err != nil {
				return Reply{}, err
			}
			r.Elems = append(r.Elems, e)
		}
		if k == KindAttribute { // attributes precede the real reply
			return rr.ReadReply()
		}
		return r, nil
	}
	return Reply{}, fmt.Errorf("%w: unknown type byte %q", ErrBadReply, l[0])
}
