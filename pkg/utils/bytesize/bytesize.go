// Package bytesize parses and formats byte sizes written the Codis way: a
// number, integer or decimal, followed by an optional unit b, k/kb, m/mb,
// g/gb, t/tb or p/pb (case-insensitive, powers of 1024), e.g. "32mb",
// "1.5k", "1024".
//
// Int64 implements encoding.TextMarshaler and encoding.TextUnmarshaler, so
// it can be used directly as a TOML or JSON field; it marshals to the
// compact form used on the wire ("32mb", "128kb", "0").
package bytesize

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Units, powers of 1024.
const (
	B  int64 = 1
	KB       = B << 10
	MB       = KB << 10
	GB       = MB << 10
	TB       = GB << 10
	PB       = TB << 10
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid byte size")

// units maps every accepted (lower-case) suffix to its multiplier.
var units = map[string]int64{
	"": B, "b": B,
	"k": KB, "kb": KB,
	"m": MB, "mb": MB,
	"g": GB, "gb": GB,
	"t": TB, "tb": TB,
	"p": PB, "pb": PB,
}

// Parse converts s to a number of bytes. Surrounding white space is ignored
// and a sign is accepted (callers validate the range). A fractional result
// is truncated toward zero; a result outside int64 is an error.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num, unit, ok := split(t)
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrInvalid, s)
	}
	mul, ok := units[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%w %q: unknown unit %q", ErrInvalid, s, unit)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err == nil {
			if v, ok := mulExact(n, mul); ok {
				return v, nil
			}
		}
		// Fall through to the exact path, which reports overflow.
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrInvalid, s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mul))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, fmt.Errorf("%w %q: out of range", ErrInvalid, s)
	}
	return q.Int64(), nil
}

// MustParse is Parse for constants known to be valid; it panics otherwise.
func MustParse(s string) int64 {
	n, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return n
}

// split separates "[sign]digits[.digits][ ]unit" into number and unit.
func split(s string) (num, unit string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			goto done
		}
	}
done:
	if digits == 0 {
		return "", "", false
	}
	num = s[:i]
	unit = strings.TrimLeft(s[i:], " \t")
	return num, unit, true
}

func mulExact(n, mul int64) (int64, bool) {
	if n == 0 || mul == 1 {
		return n, true
	}
	v := n * mul
	if v/mul != n {
		return 0, false
	}
	return v, true
}

// Format renders n with the largest unit (pb, tb, gb, mb, kb) that divides
// it exactly, or as plain bytes without a unit; zero is "0".
func Format(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range []struct {
		mul  int64
		name string
	}{{PB, "pb"}, {TB, "tb"}, {GB, "gb"}, {MB, "mb"}, {KB, "kb"}} {
		if n%u.mul == 0 {
			return strconv.FormatInt(n/u.mul, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Int64 is a byte count that reads and writes the Codis size syntax.
type Int64 int64

// Int64 returns the size in bytes.
func (b Int64) Int64() int64 { return int64(b) }

// String returns the compact form, see Format.
func (b Int64) String() string { return Format(int64(b)) }

// MarshalText implements encoding.TextMarshaler.
func (b Int64) MarshalText() ([]byte, error) { return []byte(Format(int64(b))), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Int64) UnmarshalText(text []byte) error {
	n, err := Parse(string(text))
	if err != nil {
		return err
	}
	*b = Int64(n)
	return nil
}
