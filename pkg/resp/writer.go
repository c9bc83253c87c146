package resp

import (
	"strconv"
)

// AppendSimple appends a status reply "+s\r\n". CR and LF in s are replaced
// by spaces so the reply stays one line.
func AppendSimple(dst []byte, s string) []byte {
	dst = append(dst, '+')
	dst = appendLine(dst, s)
	return append(dst, '\r', '\n')
}

// AppendOK appends "+OK\r\n".
func AppendOK(dst []byte) []byte { return append(dst, "+OK\r\n"...) }

// AppendError appends an error reply "-msg\r\n". msg should include its code
// ("ERR ...", "WRONGTYPE ..."); if it does not start with an upper-case word
// the caller is responsible. CR and LF are replaced by spaces, as Redis does.
func AppendError(dst []byte, msg string) []byte {
	dst = append(dst, '-')
	dst = appendLine(dst, msg)
	return append(dst, '\r', '\n')
}

func appendLine(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendInt appends an integer reply ":n\r\n".
func AppendInt(dst []byte, n int64) []byte {
	dst = append(dst, ':')
	dst = appendDecimal(dst, n)
	return append(dst, '\r', '\n')
}

// AppendBulk appends a bulk string reply.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = append(dst, '$')
	dst = appendDecimal(dst, int64(len(b)))
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends a bulk string reply.
func AppendBulkString(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = appendDecimal(dst, int64(len(s)))
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// AppendBulkInt appends n formatted in decimal as a bulk string.
func AppendBulkInt(dst []byte, n int64) []byte {
	var tmp [24]byte
	return AppendBulk(dst, appendDecimal(tmp[:0], n))
}

// AppendNull appends the RESP2 null bulk "$-1\r\n".
func AppendNull(dst []byte) []byte { return append(dst, "$-1\r\n"...) }

// AppendNullArray appends the RESP2 null array "*-1\r\n".
func AppendNullArray(dst []byte) []byte { return append(dst, "*-1\r\n"...) }

// AppendArrayLen appends an array header "*n\r\n"; n elements must follow.
func AppendArrayLen(dst []byte, n int) []byte {
	dst = append(dst, '*')
	dst = appendDecimal(dst, int64(n))
	return append(dst, '\r', '\n')
}

// AppendCommand appends a request as a multibulk of bulk strings.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = AppendArrayLen(dst, len(args))
	for _, a := range args {
		dst = AppendBulk(dst, a)
	}
	return dst
}

// AppendCommandStrings is AppendCommand for string arguments.
func AppendCommandStrings(dst []byte, args ...string) []byte {
	dst = AppendArrayLen(dst, len(args))
	for _, a := range args {
		dst = AppendBulkString(dst, a)
	}
	return dst
}

// appendDecimal is strconv.AppendInt(dst, n, 10) with a short path for
// 0..9999, the lengths and counts of nearly every header written: the
// library's general path was ~7 % of the proxy's CPU splitting pipelined
// MSETs.
func appendDecimal(dst []byte, n int64) []byte {
	switch {
	case n < 0 || n >= 10000:
		return strconv.AppendInt(dst, n, 10)
	case n < 10:
		return append(dst, byte('0'+n))
	case n < 100:
		return append(dst, byte('0'+n/10), byte('0'+n%10))
	case n < 1000:
		return append(dst, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	default:
		return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
}
