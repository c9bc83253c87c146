package server

import "math"

// Geohash arithmetic of the GEO commands. A position is stored as the
// score of a sorted set member: a 52-bit integer interleaving 26 bits of
// longitude (odd bit positions) and 26 bits of latitude (even positions),
// each the coordinate's offset in its range scaled to 2^26 and truncated.
// The latitude range is the Web Mercator one (±85.05112878), so the
// scores, and everything derived from them, match Redis's bit for bit.

const (
	geoStepMax = 26 // bits per coordinate

	geoLatMin  = -85.05112878
	geoLatMax  = 85.05112878
	geoLongMin = -180.0
	geoLongMax = 180.0

	// earthRadiusMeters is the radius Redis's haversine uses.
	earthRadiusMeters = 6372797.560856
	// mercatorMax is the half circumference Redis's step estimate uses.
	mercatorMax = 20037726.37
)

// degToRad is Redis's D_R, M_PI/180.0 computed in double precision.
var degToRad = func() float64 { pi := math.Pi; return pi / 180.0 }()

// geoRange is an interval of one coordinate.
type geoRange struct{ min, max float64 }

var (
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
)

// geoHash is a hash of step bits per coordinate (2*step bits in all).
// The zero value (bits 0, step 0) marks a box excluded from a search.
type geoHash struct {
	bits uint64
	step uint
}

func (h geoHash) isZero() bool { return h.bits == 0 && h.step == 0 }

// geoArea is the cell a hash designates.
type geoArea struct {
	hash      geoHash
	long, lat geoRange
}

// spreadBits moves the 32 bits of v to the even bit positions.
func spreadBits(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squashBits gathers the even bits of x into a 32-bit value.
func squashBits(x uint64) uint32 {
	x &= 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// interleave puts lat on the even bits and long on the odd bits.
func interleave(lat, long uint32) uint64 { return spreadBits(lat) | spreadBits(long)<<1 }

// deinterleave is the inverse of interleave.
func deinterleave(bits uint64) (lat, long uint32) {
	return squashBits(bits), squashBits(bits >> 1)
}

// geoEncode hashes a position with step bits per coordinate in the given
// ranges; ok is false outside the ranges (or outside the GEO limits).
func geoEncode(longR, latR geoRange, long, lat float64, step uint) (geoHash, bool) {
	if long > geoLongMax || long < geoLongMin || lat > geoLatMax || lat < geoLatMin {
		return geoHash{}, false
	}
	if lat < latR.min || lat > latR.max || long < longR.min || long > longR.max {
		return geoHash{}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	longOff := (long - longR.min) / (longR.max - longR.min)
	scale := float64(uint64(1) << step)
	latOff = float64(latOff * scale)
	longOff = float64(longOff * scale)
	return geoHash{bits: interleave(uint32(latOff), uint32(longOff)), step: step}, true
}

// geoDecode returns the cell of a hash.
func geoDecode(longR, latR geoRange, h geoHash) geoArea {
	ilat, ilong := deinterleave(h.bits)
	latScale := latR.max - latR.min
	longScale := longR.max - longR.min
	div := float64(uint64(1) << h.step)
	a := geoArea{hash: h}
	a.lat.min = latR.min + float64(float64(ilat)*1.0/div)*latScale
	a.lat.max = latR.min + float64(float64(ilat+1)*1.0/div)*latScale // uint32 wrap, as in C
	a.long.min = longR.min + float64(float64(ilong)*1.0/div)*longScale
	a.long.max = longR.min + float64(float64(ilong+1)*1.0/div)*longScale
	return a
}

// center is the middle of the cell, clamped to the GEO limits.
func (a geoArea) center() (long, lat float64) {
	long = (a.long.min + a.long.max) / 2
	long = min(max(long, geoLongMin), geoLongMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = min(max(lat, geoLatMin), geoLatMax)
	return long, lat
}

// geoScore is the sorted set score of a valid position.
func geoScore(long, lat float64) (float64, bool) {
	h, ok := geoEncode(geoLongRange, geoLatRange, long, lat, geoStepMax)
	if !ok {
		return 0, false
	}
	return float64(h.align52()), true
}

// geoFromScore decodes a member's score to its position (the center of its
// 26-bit cell).
func geoFromScore(score float64) (long, lat float64) {
	h := geoHash{bits: geoScoreBits(score), step: geoStepMax}
	return geoDecode(geoLongRange, geoLatRange, h).center()
}

// geoScoreBits converts a score to hash bits like the (uint64_t) cast of
// Redis built for x86-64 does, for any score a zset can hold (members
// added with ZADD may have scores no GEOADD produces).
func geoScoreBits(score float64) uint64 {
	switch {
	case math.IsNaN(score) || score <= -(1<<63):
		return 1 << 63
	case score >= 1<<64:
		return 0
	case score >= 1<<63:
		return uint64(score)
	}
	return uint64(int64(score))
}

// align52 left-aligns the hash to 52 bits.
func (h geoHash) align52() uint64 { return h.bits << (52 - 2*h.step) }

// moveX shifts the hash one cell east (d > 0) or west (d < 0), wrapping.
func (h *geoHash) moveX(d int) { h.move(d, 0xaaaaaaaaaaaaaaaa, 0x5555555555555555) }

// moveY shifts the hash one cell north (d > 0) or south (d < 0), wrapping.
func (h *geoHash) moveY(d int) { h.move(d, 0x5555555555555555, 0xaaaaaaaaaaaaaaaa) }

// move steps the coordinate whose interleaved bits are mask by one cell
// (the direction is d's sign), keeping the other coordinate's bits: the
// other bits are filled with ones so that the carry or borrow crosses them.
func (h *geoHash) move(d int, mask, other uint64) {
	if d == 0 {
		return
	}
	v := h.bits & mask
	keep := h.bits & other
	zz := other >> (64 - h.step*2)
	if d > 0 {
		v += zz + 1
	} else {
		v |= zz
		v -= zz + 1
	}
	v &= mask >> (64 - h.step*2)
	h.bits = v | keep
}

// geoNeighbors are the eight cells around a cell.
type geoNeighbors struct {
	north, south, east, west                   geoHash
	northEast, northWest, southEast, southWest geoHash
}

func neighborsOf(h geoHash) geoNeighbors {
	mv := func(dx, dy int) geoHash {
		n := h
		n.moveX(dx)
		n.moveY(dy)
		return n
	}
	return geoNeighbors{
		east: mv(1, 0), west: mv(-1, 0), south: mv(0, -1), north: mv(0, 1),
		northWest: mv(-1, 1), southWest: mv(-1, -1), northEast: mv(1, 1), southEast: mv(1, -1),
	}
}

// geoEstimateStep is the number of bits per coordinate of the cells a
// search of the given radius looks at: the largest cell still smaller than
// the radius, one coarser (two near the poles).
func geoEstimateStep(rangeMeters, lat float64) uint {
	if rangeMeters == 0 {
		return geoStepMax
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	step = min(max(step, 1), geoStepMax)
	return uint(step)
}

func degRad(d float64) float64 { return d * degToRad }
func radDeg(r float64) float64 { return r / degToRad }

// geoLatDistance is the distance between two latitudes on a meridian.
func geoLatDistance(lat1, lat2 float64) float64 {
	return earthRadiusMeters * math.Abs(degRad(lat2)-degRad(lat1))
}

// geoDistance is the haversine distance in meters.
func geoDistance(long1, lat1, long2, lat2 float64) float64 {
	long1r, long2r := degRad(long1), degRad(long2)
	v := geoSin((long2r - long1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := geoSin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(geoCos(lat1r)*geoCos(lat2r))*v)*v
	return 2.0 * earthRadiusMeters * geoAsin(math.Sqrt(a))
}

// geoDistanceFast is geoDistance with the math package's functions,
// within a few ulps of it: good enough to reject points far outside a
// search area before computing the exact distance.
func geoDistanceFast(long1, lat1, long2, lat2 float64) float64 {
	long1r, long2r := degRad(long1), degRad(long2)
	v := math.Sin((long2r - long1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	a := u*u + math.Cos(lat1r)*math.Cos(lat2r)*v*v
	return 2.0 * earthRadiusMeters * math.Asin(math.Sqrt(a))
}

// farBeyond reports whether an approximate distance d certainly exceeds
// limit, whatever the rounding of the exact computation.
func farBeyond(d, limit float64) bool { return d > limit*(1+1e-9)+1e-9 }

// geoShape is a search area: a circle or a box around a center, the sizes
// in the unit given by conv (meters per unit).
type geoShape struct {
	box           bool
	long, lat     float64
	conv          float64
	radius        float64 // circle
	width, height float64 // box
}

// boundingBox returns min long, min lat, max long, max lat of the shape.
func (s *geoShape) boundingBox() (minLong, minLat, maxLong, maxLat float64) {
	height, width := s.conv*s.radius, s.conv*s.radius
	if s.box {
		height = s.conv * (s.height / 2)
		width = s.conv * (s.width / 2)
	}
	latDelta := radDeg(height / earthRadiusMeters)
	longDeltaTop := radDeg(width / earthRadiusMeters / geoCos(degRad(s.lat+latDelta)))
	longDeltaBottom := radDeg(width / earthRadiusMeters / geoCos(degRad(s.lat-latDelta)))
	if s.lat < 0 {
		minLong, maxLong = s.long-longDeltaBottom, s.long+longDeltaBottom
	} else {
		minLong, maxLong = s.long-longDeltaTop, s.long+longDeltaTop
	}
	return minLong, s.lat - latDelta, maxLong, s.lat + latDelta
}

// geoSearchArea is the center cell of a search and the neighbours worth
// scanning (excluded ones are zero).
type geoSearchArea struct {
	hash      geoHash
	area      geoArea
	neighbors geoNeighbors
}

// searchArea picks the cells that cover the shape.
func (s *geoShape) searchArea() geoSearchArea {
	minLong, minLat, maxLong, maxLat := s.boundingBox()
	radius := s.radius
	if s.box {
		radius = math.Sqrt(float64((s.width/2)*(s.width/2)) + float64((s.height/2)*(s.height/2)))
	}
	radius *= s.conv
	step := geoEstimateStep(radius, s.lat)
	hash, _ := geoEncode(geoLongRange, geoLatRange, s.long, s.lat, step)
	nb := neighborsOf(hash)
	area := geoDecode(geoLongRange, geoLatRange, hash)

	// The estimated step may leave part of the shape outside the nine
	// cells when the center is near a cell edge: then use larger cells.
	north := geoDecode(geoLongRange, geoLatRange, nb.north)
	south := geoDecode(geoLongRange, geoLatRange, nb.south)
	east := geoDecode(geoLongRange, geoLatRange, nb.east)
	west := geoDecode(geoLongRange, geoLatRange, nb.west)
	decrease := north.lat.max < maxLat || south.lat.min > minLat ||
		east.long.max < maxLong || west.long.min > minLong
	if step > 1 && decrease {
		step--
		hash, _ = geoEncode(geoLongRange, geoLatRange, s.long, s.lat, step)
		nb = neighborsOf(hash)
		area = geoDecode(geoLongRange, geoLatRange, hash)
	}

	// Drop the neighbours the shape cannot reach.
	if step >= 2 {
		if area.lat.min < minLat {
			nb.south, nb.southWest, nb.southEast = geoHash{}, geoHash{}, geoHash{}
		}
		if area.lat.max > maxLat {
			nb.north, nb.northEast, nb.northWest = geoHash{}, geoHash{}, geoHash{}
		}
		if area.long.min < minLong {
			nb.west, nb.southWest, nb.northWest = geoHash{}, geoHash{}, geoHash{}
		}
		if area.long.max > maxLong {
			nb.east, nb.southEast, nb.northEast = geoHash{}, geoHash{}, geoHash{}
		}
	}
	return geoSearchArea{hash: hash, area: area, neighbors: nb}
}

// contains reports whether a point lies in the shape and its distance in
// meters from the center.
func (s *geoShape) contains(long, lat float64) (float64, bool) {
	if !s.box {
		limit := s.radius * s.conv
		if farBeyond(geoDistanceFast(s.long, s.lat, long, lat), limit) {
			return 0, false
		}
		d := geoDistance(s.long, s.lat, long, lat)
		return d, d <= limit
	}
	w, h := s.width*s.conv, s.height*s.conv
	if geoLatDistance(lat, s.lat) > h/2 {
		return 0, false
	}
	if farBeyond(geoDistanceFast(long, lat, s.long, lat), w/2) || geoDistance(long, lat, s.long, lat) > w/2 {
		return 0, false
	}
	return geoDistance(s.long, s.lat, long, lat), true
}

// geoAlphabet is the base-32 alphabet of standard geohash strings.
const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geohashString returns the 11-character standard geohash of a stored
// score: the position re-encoded with the standard latitude range ±90 (the
// 11th character, beyond the 52 bits, is always '0').
func geohashString(score float64) string {
	long, lat := geoFromScore(score)
	h, _ := geoEncode(geoRange{-180, 180}, geoRange{-90, 90}, long, lat, geoStepMax)
	var buf [11]byte
	for i := range buf {
		idx := 0
		if i < 10 {
			idx = int(h.bits>>(52-uint((i+1)*5))) & 0x1f
		}
		buf[i] = geoAlphabet[idx]
	}
	return string(buf[:])
}
