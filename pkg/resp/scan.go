package resp

import (
	"bytes"
	"errors"
)

// Limits applied by ScanReply, the same as the request limits: a backend
// reply exceeding them cannot be forwarded safely.
const (
	// ScanMaxBulkLen is the largest accepted bulk (512 MiB).
	ScanMaxBulkLen = DefaultMaxBulkLen
	// ScanMaxArrayLen is the largest accepted aggregate at any depth.
	ScanMaxArrayLen = MaxMultiBulkLen
	// scanMaxDepth bounds nesting so a hostile peer cannot make the scanner
	// keep an unbounded stack.
	scanMaxDepth = 512
)

// Errors returned by ScanReply. Their texts complete the Codis message
// "backend conn failure, <text>".
var (
	ErrScanBadType      = errors.New("bad resp type")
	ErrScanBadLine      = errors.New("bad line, missing CRLF")
	ErrScanBadInt       = errors.New("bad integer")
	ErrScanBulkTooLong  = errors.New("bad bulk string len, too long")
	ErrScanArrayTooLong = errors.New("bad array len, too long")
	ErrScanTooDeep      = errors.New("bad reply, nested too deep")
)

// ScanReply is ScanReplyLimits with ScanMaxBulkLen and ScanMaxArrayLen.
func ScanReply(b []byte) (int, error) {
	return ScanReplyLimits(b, ScanMaxBulkLen, ScanMaxArrayLen)
}

// ScanReplyLimits finds the end of the first complete reply (RESP2 or
// RESP3) in b without building it, rejecting bulks longer than maxBulk and
// aggregates with more than maxArray elements. It returns the reply's length in bytes, or 0 when
// b holds only a prefix of a reply, or an error when b cannot be the start
// of a valid reply (then the stream is unusable). It never allocates, so a
// proxy can forward backend replies as raw bytes.
func ScanReplyLimits(b []byte, maxBulk, maxArray int64) (int, error) {
	// pending[d] is the number of elements still expected at depth d.
	var pendingArr [16]int64
	pending := pendingArr[:0]
	pos := 0
	for {
		if pos >= len(b) {
			return 0, nil
		}
		typ := b[pos]
		eol := bytes.IndexByte(b[pos+1:], '\n')
		if eol < 0 {
			if len(b)-pos > MaxInlineSize {
				return 0, ErrScanBadLine
			}
			return 0, nil
		}
		lineEnd := pos + 1 + eol // index of '\n'
		if lineEnd-pos < 2 || b[lineEnd-1] != '\r' {
			return 0, ErrScanBadLine
		}
		line := b[pos+1 : lineEnd-1]
		next := lineEnd + 1
		elems := int64(-1) // aggregate children, -1 if scalar
		switch typ {
		case '+', '-', ':', '_', ',', '#', '(':
		case '$', '!', '=':
			n, ok := parseInt(line)
			if !ok || n < -1 {
				return 0, ErrScanBadInt
			}
			if n > maxBulk {
				return 0, ErrScanBulkTooLong
			}
			if n >= 0 {
				end := next + int(n) + 2
				if end > len(b) {
					return 0, nil
				}
				if b[end-2] != '\r' || b[end-1] != '\n' {
					return 0, ErrScanBadLine
				}
				next = end
			}
		case '*', '~', '>', '%', '|':
			n, ok := parseInt(line)
			if !ok || n < -1 {
				return 0, ErrScanBadInt
			}
			if n > maxArray {
				return 0, ErrScanArrayTooLong
			}
			if typ == '%' || typ == '|' {
				n *= 2
			}
			if typ == '|' && n >= 0 {
				n++ // an attribute is followed by the reply it annotates
			}
			if n > 0 {
				elems = n
			}
		default:
			return 0, ErrScanBadType
		}
		pos = next
		if elems > 0 {
			if len(pending) >= scanMaxDepth {
				return 0, ErrScanTooDeep
			}
			pending = append(pending, elems)
			continue
		}
		// A complete element: pop finished aggregates.
		for {
			if len(pending) == 0 {
				return pos, nil
			}
			pending[len(pending)-1]--
			if pending[len(pending)-1] > 0 {
				break
			}
			pending = pending[:len(pending)-1]
		}
	}
}
