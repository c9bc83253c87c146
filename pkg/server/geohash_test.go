package server

import (
	"cmp"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

const refPrec = 200

// refSinCos computes sin and cos of x with 200-bit Taylor series after
// reduction by a 200-bit pi/2.
func refSinCos(x float64) (float64, float64) {
	pi := new(big.Float).SetPrec(refPrec)
	pi.SetString("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803482534211706798")
	half := new(big.Float).SetPrec(refPrec).Quo(pi, big.NewFloat(2))
	bx := new(big.Float).SetPrec(refPrec).SetFloat64(x)
	q := new(big.Float).SetPrec(refPrec).Quo(bx, half)
	qf, _ := q.Float64()
	k := math.Round(qf)
	r := new(big.Float).SetPrec(refPrec).Sub(bx, new(big.Float).SetPrec(refPrec).Mul(half, big.NewFloat(k)))
	r2 := new(big.Float).SetPrec(refPrec).Mul(r, r)
	series := func(start *big.Float, first int) *big.Float {
		sum := new(big.Float).SetPrec(refPrec).Set(start)
		term := new(big.Float).SetPrec(refPrec).Set(start)
		for n := first; n < first+120; n += 2 {
			term.Mul(term, r2)
			term.Quo(term, big.NewFloat(float64(n*(n+1))))
			term.Neg(term)
			sum.Add(sum, term)
		}
		return sum
	}
	s := series(r, 2)
	c := series(new(big.Float).SetPrec(refPrec).SetFloat64(1), 1)
	sf, _ := s.Float64()
	cf, _ := c.Float64()
	switch int64(k) & 3 {
	case 1:
		sf, cf = cf, -sf
	case 2:
		sf, cf = -sf, -cf
	case 3:
		sf, cf = -cf, sf
	}
	return sf, cf
}

// TestGeoTrigCorrectlyRounded checks the double-double sin, cos and asin
// against a 200-bit reference: they must return the nearest double.
func TestGeoTrigCorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 400; i++ {
		x := (rng.Float64()*2 - 1) * 8
		if i%4 == 0 {
			x *= 1e-3
		}
		ws, wc := refSinCos(x)
		if g := geoSin(x); g != ws {
			t.Errorf("sin(%v) = %v, want %v", x, g, ws)
		}
		if g := geoCos(x); g != wc {
			t.Errorf("cos(%v) = %v, want %v", x, g, wc)
		}
		// asin: the result a must be the double nearest to the exact
		// arcsine, i.e. sin is monotonic around it: check that y lies
		// between sin at the midpoints to the neighbouring doubles.
		y := rng.Float64()
		a := geoAsin(y)
		by := big.NewFloat(y)
		if refSinMid(a, math.Nextafter(a, -1)).Cmp(by) > 0 {
			t.Errorf("asin(%v) = %v is too large", y, a)
		}
		if refSinMid(a, math.Nextafter(a, 2)).Cmp(by) < 0 {
			t.Errorf("asin(%v) = %v is too small", y, a)
		}
	}
	for _, y := range []float64{0, 1, -1, 1e-300, 0.5} {
		if g, w := geoAsin(y), math.Asin(y); math.Abs(g-w) > 1e-15*math.Abs(w) {
			t.Errorf("asin(%v) = %v, want about %v", y, g, w)
		}
	}
	if !math.IsNaN(geoAsin(1.0000001)) {
		t.Error("asin beyond 1 must be NaN")
	}
	if geoSin(1e300) != math.Sin(1e300) || geoCos(-1e300) != math.Cos(-1e300) {
		t.Error("huge arguments must fall back to the math package")
	}
}

// refSinMid returns the 200-bit sine of the exact midpoint of two
// adjacent doubles.
func refSinMid(a, b float64) *big.Float {
	m := new(big.Float).SetPrec(refPrec).Add(big.NewFloat(a), big.NewFloat(b))
	m.Quo(m, big.NewFloat(2))
	r2 := new(big.Float).SetPrec(refPrec).Mul(m, m)
	sum := new(big.Float).SetPrec(refPrec).Set(m)
	term := new(big.Float).SetPrec(refPrec).Set(m)
	for n := 2; n < 200; n += 2 {
		term.Mul(term, r2)
		term.Quo(term, big.NewFloat(float64(n*(n+1))))
		term.Neg(term)
		sum.Add(sum, term)
	}
	return sum
}

func TestGeohashRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 2000; i++ {
		long := -180 + rng.Float64()*360
		lat := geoLatMin + rng.Float64()*(geoLatMax-geoLatMin)
		score, ok := geoScore(long, lat)
		if !ok || score < 0 || score >= 1<<52 {
			t.Fatalf("geoScore(%v,%v) = %v %v", long, lat, score, ok)
		}
		gl, gt := geoFromScore(score)
		// The cell is 360/2^26 degrees of longitude wide.
		if math.Abs(gl-long) > 360.0/(1<<26) || math.Abs(gt-lat) > 171.0/(1<<26) {
			t.Fatalf("(%v,%v) decoded as (%v,%v)", long, lat, gl, gt)
		}
		h := geoHash{bits: uint64(score), step: geoStepMax}
		n := neighborsOf(h)
		e := n.east
		e.moveX(-1)
		if e != h {
			t.Fatalf("east then west of %x is %x", h.bits, e.bits)
		}
	}
	if _, ok := geoScore(181, 0); ok {
		t.Fatal("longitude 181 accepted")
	}
	if _, ok := geoScore(0, 85.06); ok {
		t.Fatal("latitude 85.06 accepted")
	}
	if got := geohashString(3479099956230698); got != "sqc8b49rny0" {
		t.Fatalf("geohash of Palermo = %s", got)
	}
}

// TestGeoPartialSort checks the partial quicksort: the first k positions
// hold the k smallest distances in order, and nothing is lost.
func TestGeoPartialSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 500; iter++ {
		n := 1 + rng.IntN(200)
		v := make([]geoPoint, n)
		for i := range v {
			v[i] = geoPoint{member: strconv.Itoa(i), dist: float64(rng.IntN(1 + n/3))}
		}
		want := slices.Clone(v)
		slices.SortStableFunc(want, func(a, b geoPoint) int { return cmp.Compare(a.dist, b.dist) })
		k := 1 + rng.IntN(n)
		geoPartialSort(v, func(a, b *geoPoint) int { return cmp.Compare(a.dist, b.dist) }, 0, k-1)
		for i := 0; i < k; i++ {
			if v[i].dist != want[i].dist {
				t.Fatalf("n=%d k=%d: position %d has %v, want %v", n, k, i, v[i].dist, want[i].dist)
			}
		}
		seen := map[string]bool{}
		for _, p := range v {
			seen[p.member] = true
		}
		if len(seen) != n {
			t.Fatalf("n=%d: members lost", n)
		}
	}
}
