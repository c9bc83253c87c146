// Package timesize parses and formats durations written the Codis way: a
// Go duration ("30s", "5m", "1h30m", "250ms", units ns, us/µs, ms, s, m,
// h) or a bare number, integer or decimal, meaning seconds ("30", "0.5").
//
// Duration implements encoding.TextMarshaler and encoding.TextUnmarshaler,
// so it can be used directly as a TOML or JSON field; it marshals to the
// compact form used on the wire ("30s", "5m", "0").
package timesize

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid duration")

// Parse converts s to a time.Duration. Surrounding white space is ignored,
// units are case-insensitive, and a bare number means seconds. A sign is
// accepted (callers validate the range).
func Parse(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w %q", ErrInvalid, s)
	}
	if isNumber(t) {
		r, ok := new(big.Rat).SetString(t)
		if !ok {
			return 0, fmt.Errorf("%w %q", ErrInvalid, s)
		}
		r.Mul(r, new(big.Rat).SetInt64(int64(time.Second)))
		q := new(big.Int).Quo(r.Num(), r.Denom())
		if !q.IsInt64() {
			return 0, fmt.Errorf("%w %q: out of range", ErrInvalid, s)
		}
		return time.Duration(q.Int64()), nil
	}
	d, err := time.ParseDuration(strings.ToLower(t))
	if err != nil {
		return 0, fmt.Errorf("%w %q", ErrInvalid, s)
	}
	return d, nil
}

// MustParse is Parse for constants known to be valid; it panics otherwise.
func MustParse(s string) time.Duration {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// isNumber reports whether s is "[sign]digits[.digits]" with at least one
// digit.
func isNumber(s string) bool {
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// Format renders d with the largest unit among h, m, s, ms and us that
// divides it exactly, else in nanoseconds; zero is "0".
func Format(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "us"}} {
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// Duration is a time.Duration that reads and writes the Codis syntax.
type Duration time.Duration

// Duration returns the value as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String returns the compact form, see Format.
func (d Duration) String() string { return Format(time.Duration(d)) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(Format(time.Duration(d))), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := Parse(string(text))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
