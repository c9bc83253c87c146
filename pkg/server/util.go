package server

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/codisgo/codis/pkg/resp"
)

// parseInt64 parses like Redis's string2ll (strict decimal, no spaces, no
// '+', no leading zeros).
func parseInt64(b []byte) (int64, bool) { return resp.ParseInt(b) }

// ldPrec is the mantissa size of the x87 long double Redis uses for
// INCRBYFLOAT; big.Float with this precision rounds the same way.
const ldPrec = 64

// parseLongDouble parses like Redis's string2ld (strtold, whole string, no
// leading space, no NaN). Infinity is reported through inf.
func parseLongDouble(b []byte) (v *big.Float, inf int, ok bool) {
	if len(b) == 0 || len(b) > 5*1024 || isSpaceByte(b[0]) {
		return nil, 0, false
	}
	s := strings.ToLower(string(b))
	t := strings.TrimLeft(s, "+-")
	if t == "inf" || t == "infinity" {
		if s[0] == '-' {
			return nil, -1, true
		}
		return nil, 1, true
	}
	if strings.Contains(t, "nan") || strings.ContainsAny(t, "_ \t\r\n") {
		return nil, 0, false
	}
	f, _, err := big.ParseFloat(s, 0, ldPrec, big.ToNearestEven)
	if err != nil {
		return nil, 0, false
	}
	return f, 0, true
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// formatLongDouble formats like Redis's ld2string(LD_STR_HUMAN): %.17Lf
// with trailing zeros (and a trailing '.') removed; "-0" becomes "0".
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// parseFloat64 parses like Redis's string2d (strtod, no spaces, no NaN).
func parseFloat64(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) || isSpaceByte(b[len(b)-1]) {
		return 0, false
	}
	s := string(b)
	if strings.ContainsRune(s, '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if asNumErr(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func asNumErr(err error, target **strconv.NumError) bool {
	ne, ok := err.(*strconv.NumError)
	if ok {
		*target = ne
	}
	return ok
}

// globMatch is Redis's stringmatchlen: *, ?, [abc], [^a-z], \x escapes.
func globMatch(pattern, str []byte, nocase bool) bool {
	return globMatchDepth(pattern, str, nocase, 0)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globMatchDepth(p, s []byte, nocase bool, depth int) bool {
	if depth > 1000 { // protects against pathological patterns
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchDepth(p[1:], s, nocase, depth+1) {
					return true
				}
				s = s[1:]
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					c := s[0]
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else {
					if nocase {
						if lower(p[0]) == lower(s[0]) {
							match = true
						}
					} else if p[0] == s[0] {
						match = true
					}
				}
				p = p[1:]
			}
			if len(p) == 0 {
				// Redis: a missing ']' is treated as if it were there, and
				// the pattern position stays at the end.
				if not {
					match = !match
				}
				if !match {
					return false
				}
				s = s[1:]
				continue
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if lower(p[0]) != lower(s[0]) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
