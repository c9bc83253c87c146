package resp

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// SplitArgs splits a line the way Redis's sdssplitargs does (inline
// requests, redis.conf lines): blanks separate arguments, "double quotes"
// support \n \r \t \b \a \xHH and \<c> escapes, 'single quotes' support \'.
// A closing quote must be followed by a blank or the end of the line. It
// reports false for unbalanced quotes. The result does not alias line.
func SplitArgs(line []byte) ([][]byte, bool) {
	argv, _, ok := splitArgs(nil, nil, line)
	if !ok {
		return nil, false
	}
	out := make([][]byte, len(argv))
	for i, a := range argv {
		out[i] = append([]byte{}, a...)
	}
	return out, true
}

// splitArgs appends the unescaped arguments to scratch and returns argv
// slices into it (built only after scratch stops growing).
func splitArgs(argv [][]byte, scratch []byte, line []byte) ([][]byte, []byte, bool) {
	// A NUL byte ends the line, as for C strings.
	for i, c := range line {
		if c == 0 {
			line = line[:i]
			break
		}
	}
	var offs [64]int
	bounds := offs[:0]
	p, n := 0, len(line)
	at := func(i int) byte { // 0 past the end, like a C string
		if i < n {
			return line[i]
		}
		return 0
	}
	for {
		for p < n && isSpace(line[p]) {
			p++
		}
		if p >= n {
			break
		}
		start := len(scratch)
		inq, insq := false, false
		for done := false; !done; {
			c := at(p)
			switch {
			case inq:
				if c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)) {
					scratch = append(scratch, hexVal(at(p+2))<<4|hexVal(at(p+3)))
					p += 3
				} else if c == '\\' && at(p+1) != 0 {
					p++
					e := line[p]
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					scratch = append(scratch, e)
				} else if c == '"' {
					if nx := at(p + 1); nx != 0 && !isSpace(nx) {
						return argv, scratch, false
					}
					done = true
				} else if c == 0 {
					return argv, scratch, false
				} else {
					scratch = append(scratch, c)
				}
			case insq:
				if c == '\\' && at(p+1) == '\'' {
					p++
					scratch = append(scratch, '\'')
				} else if c == '\'' {
					if nx := at(p + 1); nx != 0 && !isSpace(nx) {
						return argv, scratch, false
					}
					done = true
				} else if c == 0 {
					return argv, scratch, false
				} else {
					scratch = append(scratch, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					scratch = append(scratch, c)
				}
			}
			if p < n {
				p++
			}
		}
		bounds = append(bounds, start, len(scratch))
	}
	for i := 0; i < len(bounds); i += 2 {
		argv = append(argv, scratch[bounds[i]:bounds[i+1]:bounds[i+1]])
	}
	return argv, scratch, true
}
