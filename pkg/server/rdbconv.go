package server

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/codisgo/codis/pkg/rdb"
)

// Conversion between server values and rdb.Object (DUMP, RESTORE,
// SLOTSRESTORE, migration; later RDB files and full sync).
//
// Strings are converted here. Every other type plugs in from its own file:
//
//   - its Object value implements rdbValue (an rdbObject method returning
//     the neutral form; the slices may alias the value, the result is only
//     read and must not outlive the command);
//   - its init calls registerRDBDecoder(rdb.KindX, fn), fn building a value
//     from a decoded rdb.Object (which the value may retain: decoders never
//     alias their input) or returning an error wrapping rdb.ErrBadFormat,
//     e.g. for duplicate set members or hash fields, which Redis 7 refuses.

// rdbValue is implemented by Object values that can be serialized.
type rdbValue interface {
	rdbObject() rdb.Object
}

// rdbDecoder builds a server value from a decoded rdb.Object, choosing its
// encoding by the server's thresholds lim.
type rdbDecoder func(o *rdb.Object, lim *encLimits) (Object, error)

// rdbDecoders is indexed by rdb.Kind; filled from init functions.
var rdbDecoders [rdb.KindHash + 1]rdbDecoder

// registerRDBDecoder installs the decoder of a non-string kind; a duplicate
// is a programming error.
func registerRDBDecoder(k rdb.Kind, fn rdbDecoder) {
	if k == rdb.KindString || int(k) >= len(rdbDecoders) || rdbDecoders[k] != nil {
		panic(fmt.Sprintf("server: bad or duplicate rdb decoder for %v", k))
	}
	rdbDecoders[k] = fn
}

// errNotSerializable reports a value whose type has no rdb conversion.
var errNotSerializable = errors.New("server: value type cannot be serialized")

// entryRDB returns the neutral form of an entry's value. The result may
// alias the entry and is valid until the keyspace changes.
func entryRDB(e *Entry) (rdb.Object, error) {
	if e.typ == TypeString {
		return rdb.Object{Kind: rdb.KindString, Str: e.Str()}, nil
	}
	if v, ok := e.Obj().(rdbValue); ok {
		return v.rdbObject(), nil
	}
	if o, ok := rdbFallbackObject(e.Obj()); ok {
		return o, nil
	}
	return rdb.Object{}, fmt.Errorf("%w: %s", errNotSerializable, e.typ)
}

// dumpEntry returns the DUMP payload (version 7, classic types) of e.
func dumpEntry(e *Entry) ([]byte, error) {
	o, err := entryRDB(e)
	if err != nil {
		return nil, err
	}
	return rdb.EncodeDump(&o, rdb.DumpVersion)
}

// entryFromRDB builds a new entry (no expiry) owning o's slices, with the
// default encoding thresholds.
func entryFromRDB(o *rdb.Object) (*Entry, error) { return entryFromRDBLim(o, &defaultEncLimits) }

// entryFromRDBLim is entryFromRDB with the thresholds of a server.
func entryFromRDBLim(o *rdb.Object, lim *encLimits) (*Entry, error) {
	if o.Kind == rdb.KindString {
		return NewStringEntry(o.Str), nil
	}
	if int(o.Kind) < len(rdbDecoders) && rdbDecoders[o.Kind] == nil {
		if fn := rdbFallbackDecoder(o.Kind); fn != nil {
			v, err := fn(o, lim)
			if err != nil {
				return nil, err
			}
			return NewObjectEntry(v), nil
		}
	}
	if int(o.Kind) >= len(rdbDecoders) || rdbDecoders[o.Kind] == nil {
		return nil, fmt.Errorf("%w: %v values are not supported yet", rdb.ErrUnsupportedType, o.Kind)
	}
	v, err := rdbDecoders[o.Kind](o, lim)
	if err != nil {
		return nil, err
	}
	return NewObjectEntry(v), nil
}

// decodePayloadLim verifies and decodes a DUMP payload into a new entry,
// encoded by the thresholds of the server that restores it (lim).
func decodePayloadLim(payload []byte, maxVersion uint16, lim *encLimits) (*Entry, error) {
	o, err := rdb.DecodeDump(payload, maxVersion)
	if err != nil {
		return nil, err
	}
	if len(payload) > 0 {
		switch payload[0] {
		case rdb.TypeZSetZiplist, rdb.TypeZSetListpack, rdb.TypeHashZiplist, rdb.TypeHashListpack:
			// Redis keeps a packed sorted set or hash packed when only
			// its values are now too long: it checks the entry count.
			l := *lim
			l.zsetValue, l.hash.value = math.MaxInt, math.MaxInt
			lim = &l
		}
	}
	return entryFromRDBLim(&o, lim)
}

// Fallback conversions for sets and sorted sets, used until their type
// files provide rdbValue and a registered decoder (which take precedence).

func rdbFallbackObject(obj Object) (rdb.Object, bool) {
	switch v := obj.(type) {
	case *setObject:
		o := rdb.Object{Kind: rdb.KindSet, Set: make([][]byte, 0, v.Len())}
		v.each(func(m string) bool {
			o.Set = append(o.Set, []byte(m))
			return true
		})
		return o, true
	case *zsetObject:
		o := rdb.Object{Kind: rdb.KindZSet, ZSet: make([]rdb.ZMember, 0, v.Len())}
		v.Range(0, v.Len(), false, func(m string, score float64) bool {
			o.ZSet = append(o.ZSet, rdb.ZMember{Member: []byte(m), Score: score})
			return true
		})
		return o, true
	}
	return rdb.Object{}, false
}

func rdbFallbackDecoder(k rdb.Kind) rdbDecoder {
	switch k {
	case rdb.KindSet:
		return rdbFallbackSet
	case rdb.KindZSet:
		return rdbFallbackZSet
	}
	return nil
}

// rdbFallbackSet builds a set; duplicate members are refused as Redis 7
// does.
func rdbFallbackSet(o *rdb.Object, lim *encLimits) (Object, error) {
	if len(o.Set) == 0 {
		return nil, rdb.ErrEmptyKey
	}
	s := newSetObject()
	if len(o.Set) > lim.setInts {
		s.convert()
	}
	for _, m := range o.Set {
		if !s.Add(m, lim.setInts) {
			return nil, fmt.Errorf("%w: duplicate set member", rdb.ErrBadFormat)
		}
	}
	return s, nil
}

// rdbFallbackZSet builds a sorted set; duplicate members and NaN scores
// are refused as Redis 7 does.
func rdbFallbackZSet(o *rdb.Object, lim *encLimits) (Object, error) {
	if len(o.ZSet) == 0 {
		return nil, rdb.ErrEmptyKey
	}
	ents := make([]zent, len(o.ZSet))
	for i, m := range o.ZSet {
		if math.IsNaN(m.Score) {
			return nil, fmt.Errorf("%w: NaN score", rdb.ErrBadFormat)
		}
		ents[i] = zent{member: string(m.Member), score: m.Score}
	}
	slices.SortFunc(ents, func(a, b zent) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return strings.Compare(a.member, b.member)
	})
	seen := make(map[string]struct{}, len(ents))
	for _, e := range ents {
		if _, dup := seen[e.member]; dup {
			return nil, fmt.Errorf("%w: duplicate sorted set member", rdb.ErrBadFormat)
		}
		seen[e.member] = struct{}{}
	}
	return zsetFromSorted(ents, lim), nil
}
