package server

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// GEO commands. A GEO key is a sorted set whose scores are 52-bit
// geohashes (geohash.go); GEOADD is ZADD with computed scores and the
// searches scan the score ranges of the cells covering the search area.

func init() {
	r := FlagReadOnly
	wm := FlagWrite | FlagDenyOOM
	register(
		&Command{Name: "geoadd", Arity: -5, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: geoaddCommand},
		&Command{Name: "geopos", Arity: -2, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: geoposCommand},
		&Command{Name: "geodist", Arity: -4, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: geodistCommand},
		&Command{Name: "geohash", Arity: -2, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: geohashCommand},
		&Command{Name: "georadius", Arity: -6, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1,
			KeysFn: georadiusKeys(6), Proc: georadiusCommand},
		&Command{Name: "georadius_ro", Arity: -6, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: georadiusROCommand},
		&Command{Name: "georadiusbymember", Arity: -5, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1,
			KeysFn: georadiusKeys(5), Proc: georadiusbymemberCommand},
		&Command{Name: "georadiusbymember_ro", Arity: -5, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: georadiusbymemberROCommand},
		&Command{Name: "geosearch", Arity: -7, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: geosearchCommand},
		&Command{Name: "geosearchstore", Arity: -8, Flags: wm, FirstKey: 1, LastKey: 2, Step: 1, Proc: geosearchstoreCommand},
	)
}

// georadiusKeys finds the keys like Redis 7.0's key specs: the source,
// then the argument after the first STORE and after the first STOREDIST
// found from position from on.
func georadiusKeys(from int) func(argv [][]byte) [][]byte {
	return func(argv [][]byte) [][]byte {
		if len(argv) < 2 {
			return nil
		}
		ks := [][]byte{argv[1]}
		for _, kw := range []string{"store", "storedist"} {
			for i := from; i+1 < len(argv); i++ {
				if eqFold(argv[i], kw) {
					ks = append(ks, argv[i+1])
					break
				}
			}
		}
		return ks
	}
}

const errGeoMember = "ERR could not decode requested zset member"

// formatCFloat formats like C's printf("%.*f").
func formatCFloat(f float64, prec int) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// appendHumanDouble formats like Redis's addReplyHumanLongDouble: %.17f
// without trailing zeros (nor a trailing point), "-0" as "0".
func appendHumanDouble(dst []byte, f float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	end := len(dst)
	if slices.Contains(dst[start:], '.') {
		for dst[end-1] == '0' {
			end--
		}
		if dst[end-1] == '.' {
			end--
		}
	}
	if string(dst[start:end]) == "-0" {
		dst[start] = '0'
		end = start + 1
	}
	return dst[:end]
}

func (c *client) addHumanDouble(f float64) {
	var buf [48]byte
	c.addBulk(appendHumanDouble(buf[:0], f))
}

// addDistance replies a distance like Redis's addReplyDoubleDistance.
func (c *client) addDistance(d float64) {
	c.addBulkString(formatCFloat(d, 4))
}

func (c *client) addGeoPos(long, lat float64) {
	c.addArrayLen(2)
	c.addHumanDouble(long)
	c.addHumanDouble(lat)
}

// geoParseLongLat parses a longitude, latitude pair (replying on error).
func (c *client) geoParseLongLat(a, b []byte) (long, lat float64, ok bool) {
	if long, ok = parseScoreStrict(a); !ok {
		c.addError(errNotFloat)
		return 0, 0, false
	}
	if lat, ok = parseScoreStrict(b); !ok {
		c.addError(errNotFloat)
		return 0, 0, false
	}
	if long < geoLongMin || long > geoLongMax || lat < geoLatMin || lat > geoLatMax {
		c.addError(fmt.Sprintf("ERR invalid longitude,latitude pair %s,%s", formatCFloat(long, 6), formatCFloat(lat, 6)))
		return 0, 0, false
	}
	return long, lat, true
}

// geoParseUnit returns the meters per unit (replying on error).
func (c *client) geoParseUnit(u []byte) (float64, bool) {
	switch {
	case eqFold(u, "m"):
		return 1, true
	case eqFold(u, "km"):
		return 1000, true
	case eqFold(u, "ft"):
		return 0.3048, true
	case eqFold(u, "mi"):
		return 1609.34, true
	}
	c.addError("ERR unsupported unit provided. please use M, KM, FT, MI")
	return 0, false
}

// geoParseDistance parses "radius unit".
func (c *client) geoParseDistance(args [][]byte) (radius, conv float64, ok bool) {
	if radius, ok = parseScoreStrict(args[0]); !ok {
		c.addError("ERR need numeric radius")
		return 0, 0, false
	}
	if radius < 0 {
		c.addError("ERR radius cannot be negative")
		return 0, 0, false
	}
	conv, ok = c.geoParseUnit(args[1])
	return radius, conv, ok
}

// geoParseBox parses "width height unit".
func (c *client) geoParseBox(args [][]byte) (width, height, conv float64, ok bool) {
	if width, ok = parseScoreStrict(args[0]); !ok {
		c.addError("ERR need numeric width")
		return 0, 0, 0, false
	}
	if height, ok = parseScoreStrict(args[1]); !ok {
		c.addError("ERR need numeric height")
		return 0, 0, 0, false
	}
	if height < 0 || width < 0 {
		c.addError("ERR height or width cannot be negative")
		return 0, 0, 0, false
	}
	conv, ok = c.geoParseUnit(args[2])
	return width, height, conv, ok
}

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the
// geohashes as scores.
func geoaddCommand(c *client, argv [][]byte) {
	nx, xx := false, false
	idx := 2
	for ; idx < len(argv); idx++ {
		switch {
		case eqFold(argv[idx], "nx"):
			nx = true
		case eqFold(argv[idx], "xx"):
			xx = true
		case eqFold(argv[idx], "ch"):
		default:
			goto done
		}
	}
done:
	if (len(argv)-idx)%3 != 0 || (nx && xx) {
		c.addError(errSyntax)
		return
	}
	n := (len(argv) - idx) / 3
	zargv := make([][]byte, 0, idx+2*n)
	zargv = append(zargv, []byte("zadd"))
	zargv = append(zargv, argv[1:idx]...)
	for i := 0; i < n; i++ {
		a := argv[idx+3*i:]
		long, lat, ok := c.geoParseLongLat(a[0], a[1])
		if !ok {
			return
		}
		score, _ := geoScore(long, lat)
		zargv = append(zargv, strconv.AppendFloat(nil, score, 'f', -1, 64), a[2])
	}
	c.zaddGeneric(zargv, 0)
}

// geoLookup is the read lookup of the GEO commands: nil when absent, ok
// false after WRONGTYPE.
func (c *client) geoLookup(key []byte) (*zsetObject, bool) {
	z, _, ok := c.lookupZset(key, true)
	return z, ok
}

// geoPerMember answers GEOPOS and GEOHASH: an array with, for each member
// of argv[2:], emit(its score), or missing() when the member (or the key)
// is absent.
func (c *client) geoPerMember(argv [][]byte, missing func(), emit func(score float64)) {
	z, ok := c.geoLookup(argv[1])
	if !ok {
		return
	}
	c.addArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		if z != nil {
			if score, found := z.Score(string(m)); found {
				emit(score)
				continue
			}
		}
		missing()
	}
}

func geoposCommand(c *client, argv [][]byte) {
	c.geoPerMember(argv, c.addNullArray, func(score float64) { c.addGeoPos(geoFromScore(score)) })
}

func geodistCommand(c *client, argv [][]byte) {
	conv := 1.0
	if len(argv) == 5 {
		var ok bool
		if conv, ok = c.geoParseUnit(argv[4]); !ok {
			return
		}
	} else if len(argv) > 5 {
		c.addError(errSyntax)
		return
	}
	z, ok := c.geoLookup(argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	s1, ok1 := z.Score(string(argv[2]))
	s2, ok2 := z.Score(string(argv[3]))
	if !ok1 || !ok2 {
		c.addNull()
		return
	}
	long1, lat1 := geoFromScore(s1)
	long2, lat2 := geoFromScore(s2)
	c.addDistance(geoDistance(long1, lat1, long2, lat2) / conv)
}

func geohashCommand(c *client, argv [][]byte) {
	c.geoPerMember(argv, c.addNull, func(score float64) { c.addBulkString(geohashString(score)) })
}

// Search command variants.
const (
	geoRadiusCoords = 1 << iota // GEORADIUS: center given as long lat
	geoRadiusMember             // GEORADIUSBYMEMBER: center is a member
	geoNoStore                  // the _RO forms
	geoSearch                   // GEOSEARCH syntax
	geoSearchStore              // GEOSEARCHSTORE
)

func georadiusCommand(c *client, argv [][]byte) { c.geoSearchGeneric(argv, 1, geoRadiusCoords) }
func georadiusROCommand(c *client, argv [][]byte) {
	c.geoSearchGeneric(argv, 1, geoRadiusCoords|geoNoStore)
}
func georadiusbymemberCommand(c *client, argv [][]byte) { c.geoSearchGeneric(argv, 1, geoRadiusMember) }
func georadiusbymemberROCommand(c *client, argv [][]byte) {
	c.geoSearchGeneric(argv, 1, geoRadiusMember|geoNoStore)
}
func geosearchCommand(c *client, argv [][]byte) { c.geoSearchGeneric(argv, 1, geoSearch) }
func geosearchstoreCommand(c *client, argv [][]byte) {
	c.geoSearchGeneric(argv, 2, geoSearch|geoSearchStore)
}

// geoPoint is one search result.
type geoPoint struct {
	member    string
	score     float64
	dist      float64 // meters, then in the requested unit
	long, lat float64
}

// Sort orders of the search results.
const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

// geoMemberPos returns the position of member (false if absent).
func geoMemberPos(z *zsetObject, member []byte) (long, lat float64, ok bool) {
	score, ok := z.Score(string(member))
	if !ok {
		return 0, 0, false
	}
	long, lat = geoFromScore(score)
	return long, lat, true
}

// geoSearchGeneric implements GEORADIUS, GEORADIUSBYMEMBER, their _RO
// forms, GEOSEARCH and GEOSEARCHSTORE, with Redis's order of checks.
func (c *client) geoSearchGeneric(argv [][]byte, srcIdx int, flags int) {
	z, ok := c.geoLookup(argv[srcIdx])
	if !ok {
		return
	}
	var shape geoShape
	var storeKey []byte
	storeDist := false
	var base int
	switch {
	case flags&geoRadiusCoords != 0:
		base = 6
		if shape.long, shape.lat, ok = c.geoParseLongLat(argv[2], argv[3]); !ok {
			return
		}
		if shape.radius, shape.conv, ok = c.geoParseDistance(argv[4:6]); !ok {
			return
		}
	case flags&geoRadiusMember != 0:
		base = 5
		if z != nil {
			if shape.long, shape.lat, ok = geoMemberPos(z, argv[2]); !ok {
				c.addError(errGeoMember)
				return
			}
			if shape.radius, shape.conv, ok = c.geoParseDistance(argv[3:5]); !ok {
				return
			}
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = argv[1]
		}
	}

	withDist, withHash, withCoord := false, false, false
	fromMember, fromLoc, byRadius, byBox := false, false, false, false
	sort := geoSortNone
	anyFlag := false
	var count int64
	search := flags&geoSearch != 0
	canStore := flags&(geoNoStore|geoSearch) == 0
	rest := argv[base:]
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		left := len(rest) - i - 1 // arguments after this one
		switch {
		case eqFold(arg, "withdist"):
			withDist = true
		case eqFold(arg, "withhash"):
			withHash = true
		case eqFold(arg, "withcoord"):
			withCoord = true
		case eqFold(arg, "any"):
			anyFlag = true
		case eqFold(arg, "asc"):
			sort = geoSortAsc
		case eqFold(arg, "desc"):
			sort = geoSortDesc
		case eqFold(arg, "count") && left >= 1:
			n, ok := parseInt64(rest[i+1])
			if !ok {
				c.addError(errNotInt)
				return
			}
			if n <= 0 {
				c.addError("ERR COUNT must be > 0")
				return
			}
			count = n
			i++
		case eqFold(arg, "store") && left >= 1 && canStore:
			storeKey, storeDist = rest[i+1], false
			i++
		case eqFold(arg, "storedist") && left >= 1 && canStore:
			storeKey, storeDist = rest[i+1], true
			i++
		case eqFold(arg, "storedist") && flags&geoSearchStore != 0:
			storeDist = true
		case eqFold(arg, "frommember") && left >= 1 && search && !fromLoc:
			if z != nil {
				if shape.long, shape.lat, ok = geoMemberPos(z, rest[i+1]); !ok {
					c.addError(errGeoMember)
					return
				}
			}
			fromMember = true
			i++
		case eqFold(arg, "fromlonlat") && left >= 2 && search && !fromMember:
			if shape.long, shape.lat, ok = c.geoParseLongLat(rest[i+1], rest[i+2]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case eqFold(arg, "byradius") && left >= 2 && search && !byBox:
			if shape.radius, shape.conv, ok = c.geoParseDistance(rest[i+1 : i+3]); !ok {
				return
			}
			shape.box = false
			byRadius = true
			i += 2
		case eqFold(arg, "bybox") && left >= 3 && search && !byRadius:
			if shape.width, shape.height, shape.conv, ok = c.geoParseBox(rest[i+1 : i+4]); !ok {
				return
			}
			shape.box = true
			byBox = true
			i += 3
		default:
			c.addError(errSyntax)
			return
		}
	}

	if storeKey != nil && (withDist || withHash || withCoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.addError("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if search && !fromMember && !fromLoc {
		c.addError(fmt.Sprintf("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", argv[0]))
		return
	}
	if search && !byRadius && !byBox {
		c.addError(fmt.Sprintf("ERR exactly one of BYRADIUS and BYBOX can be specified for %s", argv[0]))
		return
	}
	if anyFlag && count == 0 {
		c.addError("ERR the ANY argument requires COUNT argument")
		return
	}
	if z == nil {
		if storeKey != nil {
			if c.db.Delete(storeKey) {
				c.notify(notifyGeneric, "del", storeKey)
			}
			c.addInt(0)
		} else {
			c.addArrayLen(0)
		}
		return
	}
	if count != 0 && sort == geoSortNone && !anyFlag {
		sort = geoSortAsc
	}

	var limit int64
	if anyFlag {
		limit = count
	}
	points := geoCollect(z, &shape, limit)

	if len(points) == 0 && storeKey == nil {
		c.addArrayLen(0)
		return
	}
	returned := len(points)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	if sort != geoSortNone {
		byDist := func(a, b *geoPoint) int { return cmp.Compare(a.dist, b.dist) }
		if sort == geoSortDesc {
			byDist = func(a, b *geoPoint) int { return cmp.Compare(b.dist, a.dist) }
		}
		if returned == len(points) {
			// Redis sorts everything with glibc's qsort, a merge sort:
			// stable.
			slices.SortStableFunc(points, func(a, b geoPoint) int { return byDist(&a, &b) })
		} else {
			// Redis sorts only the first returned with its partial
			// quicksort; equal distances end up in its order.
			geoPartialSort(points, byDist, 0, returned-1)
		}
	}
	points = points[:returned]
	for i := range points {
		points[i].dist /= shape.conv
	}

	if storeKey != nil {
		ents := make([]zent, len(points))
		for i, p := range points {
			ents[i] = zent{member: p.member, score: p.score}
			if storeDist {
				ents[i].score = p.dist
			}
		}
		slices.SortFunc(ents, func(a, b zent) int {
			if a.score != b.score {
				return cmp.Compare(a.score, b.score)
			}
			return strings.Compare(a.member, b.member)
		})
		ents = slices.CompactFunc(ents, func(a, b zent) bool { return a.member == b.member })
		c.storeZset(storeKey, ents, geoStoreEvent(flags))
		return
	}

	opts := 0
	for _, f := range []bool{withDist, withHash, withCoord} {
		if f {
			opts++
		}
	}
	c.addArrayLen(len(points))
	for _, p := range points {
		if opts > 0 {
			c.addArrayLen(opts + 1)
		}
		c.addBulkString(p.member)
		if withDist {
			c.addDistance(p.dist)
		}
		if withHash {
			c.addInt(int64(p.score))
		}
		if withCoord {
			c.addGeoPos(p.long, p.lat)
		}
	}
}

// geoCollect returns the members inside the shape, scanning the center
// cell and its neighbours in Redis's order; with limit > 0 it stops once
// that many were found (ANY).
func geoCollect(z *zsetObject, shape *geoShape, limit int64) []geoPoint {
	sa := shape.searchArea()
	nb := sa.neighbors
	cells := [9]geoHash{sa.hash, nb.north, nb.south, nb.east, nb.west,
		nb.northEast, nb.northWest, nb.southEast, nb.southWest}
	var points []geoPoint
	last := 0
	for i, h := range cells {
		if h.isZero() {
			continue
		}
		// With huge radii adjacent cells can coincide: skip a cell equal
		// to the one scanned just before.
		if last != 0 && h == cells[last] {
			continue
		}
		if len(points) > 0 && limit > 0 && int64(len(points)) >= limit {
			break
		}
		points = geoScanCell(z, h, shape, limit, points)
		last = i
	}
	return points
}

// geoScanCell appends the members of cell h inside the shape.
func geoScanCell(z *zsetObject, h geoHash, shape *geoShape, limit int64, points []geoPoint) []geoPoint {
	lo := h.align52()
	h.bits++
	hi := h.align52()
	r := zScoreRange{min: float64(lo), max: float64(hi), maxex: true}
	from, to := r.bounds(z)
	z.Range(from, to-from, false, func(m string, score float64) bool {
		long, lat := geoFromScore(score)
		if d, in := shape.contains(long, lat); in {
			points = append(points, geoPoint{member: m, score: score, dist: d, long: long, lat: lat})
		}
		return limit == 0 || int64(len(points)) < limit
	})
	return points
}

// geoPartialSort orders v so that positions lo..hi hold what a full sort
// would put there, the way Redis's pqsort does (a Bentley-McIlroy
// quicksort that skips the partitions outside lo..hi), so that members at
// equal distances come out in the same order as Redis's.
func geoPartialSort(v []geoPoint, cmp func(a, b *geoPoint) int, lo, hi int) {
	c := func(i, j int) int { return cmp(&v[i], &v[j]) }
	swap := func(i, j int) { v[i], v[j] = v[j], v[i] }
	vecswap := func(i, j, n int) {
		for k := 0; k < n; k++ {
			swap(i+k, j+k)
		}
	}
	med3 := func(a, b, d int) int {
		if c(a, b) < 0 {
			if c(b, d) < 0 {
				return b
			}
			if c(a, d) < 0 {
				return d
			}
			return a
		}
		if c(b, d) > 0 {
			return b
		}
		if c(a, d) < 0 {
			return a
		}
		return d
	}
	insertion := func(a, n int) {
		for m := a + 1; m < a+n; m++ {
			for l := m; l > a && c(l-1, l) > 0; l-- {
				swap(l, l-1)
			}
		}
	}
	// overlaps reports whether [a, a+n) meets [lo, hi].
	overlaps := func(a, n int) bool { return !(hi < a || lo >= a+n) }
	var sortRange func(a, n int)
	sortRange = func(a, n int) {
		for {
			if n < 7 {
				insertion(a, n)
				return
			}
			pm := a + n/2
			if n > 7 {
				pl, pn := a, a+n-1
				if n > 40 {
					d := n / 8
					pl = med3(pl, pl+d, pl+2*d)
					pm = med3(pm-d, pm, pm+d)
					pn = med3(pn-2*d, pn-d, pn)
				}
				pm = med3(pl, pm, pn)
			}
			swap(a, pm)
			pa, pb := a+1, a+1
			pc, pd := a+n-1, a+n-1
			for {
				for pb <= pc {
					r := c(pb, a)
					if r > 0 {
						break
					}
					if r == 0 {
						swap(pa, pb)
						pa++
					}
					pb++
				}
				for pb <= pc {
					r := c(pc, a)
					if r < 0 {
						break
					}
					if r == 0 {
						swap(pc, pd)
						pd--
					}
					pc--
				}
				if pb > pc {
					break
				}
				swap(pb, pc)
				pb++
				pc--
			}
			pn := a + n
			r := min(pa-a, pb-pa)
			vecswap(a, pb-r, r)
			r = min(pd-pc, pn-pd-1)
			vecswap(pb, pn-r, r)
			if r = pb - pa; r > 1 && overlaps(a, r) {
				sortRange(a, r)
			}
			if r = pd - pc; r > 1 {
				a, n = pn-r, r
				if overlaps(a, n) {
					continue
				}
			}
			return
		}
	}
	sortRange(0, len(v))
}

// geoStoreEvent is the keyspace event of a search with STORE.
func geoStoreEvent(flags int) string {
	if flags&geoSearchStore != 0 {
		return "geosearchstore"
	}
	return "georadiusstore"
}
