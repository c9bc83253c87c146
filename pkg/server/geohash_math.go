package server

import "math"

// Correctly rounded sine, cosine and arcsine for the GEO distance
// formulas. Redis computes distances with glibc's libm, whose results are
// (practically always) the doubles nearest to the exact values; Go's math
// package is only accurate to about one ulp, which shows in the 17 digits
// GEOSEARCHSTORE ... STOREDIST stores. These functions evaluate in
// double-double arithmetic (about 106 bits) and round once.

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddNeg(a dd) dd { return dd{-a.hi, -a.lo} }

func ddMul(a, b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func ddMulF(a dd, b float64) dd {
	p := twoProd(a.hi, b)
	p.lo += a.lo * b
	return quickTwoSum(p.hi, p.lo)
}

func ddDivF(a dd, b float64) dd {
	q1 := a.hi / b
	p := twoProd(q1, b)
	r := twoSum(a.hi, -p.hi)
	r.lo -= p.lo
	r.lo += a.lo
	q2 := (r.hi + r.lo) / b
	return quickTwoSum(q1, q2)
}

// piOver2 is pi/2 split in three doubles (about 159 bits).
var piOver2 = [3]float64{
	1.5707963267948966192313216916397514420985846996875529,
	6.123233995736766035868820147291818e-17,
	-1.4973849048591698329435081771170914e-33,
}

// Taylor coefficients (-1)^k/(2k+1)! (sin) and (-1)^k/(2k)! (cos) in
// double-double, k = 0..sinCosTerms-1: enough for |r| <= pi/4 to 2^-106.
const sinCosTerms = 15

// sinCosSplit: terms from here on are below 2^-53 of the result and are
// summed in plain double precision.
const sinCosSplit = 8

var sinCoef, cosCoef = func() (s, c [sinCosTerms]dd) {
	// 1/n! by exact double-double division, n up to 29.
	f := dd{1, 0}
	inv := [2 * sinCosTerms]dd{}
	for n := 0; n < 2*sinCosTerms; n++ {
		if n > 0 {
			f = ddDivF(f, float64(n))
		}
		inv[n] = f
	}
	for k := 0; k < sinCosTerms; k++ {
		s[k], c[k] = inv[2*k+1], inv[2*k]
		if k%2 == 1 {
			s[k], c[k] = ddNeg(s[k]), ddNeg(c[k])
		}
	}
	return s, c
}()

// ddPoly evaluates sum coef[k]*x^k by Horner's rule, the small high-order
// terms in double precision.
func ddPoly(coef *[sinCosTerms]dd, x dd) dd {
	t := coef[sinCosTerms-1].hi
	for k := sinCosTerms - 2; k >= sinCosSplit; k-- {
		t = t*x.hi + coef[k].hi
	}
	p := dd{t, 0}
	for k := sinCosSplit - 1; k >= 0; k-- {
		p = ddAdd(ddMul(p, x), coef[k])
	}
	return p
}

// ddSinSmall and ddCosSmall are sin and cos for |r| <= pi/4.
func ddSinSmall(r dd) dd { return ddMul(r, ddPoly(&sinCoef, ddMul(r, r))) }
func ddCosSmall(r dd) dd { return ddPoly(&cosCoef, ddMul(r, r)) }

// ddReduce returns r = x - k*pi/2 with |r| <= pi/4 (about) and k mod 4;
// ok is false for arguments too large for this reduction.
func ddReduce(x float64) (r dd, quadrant int64, ok bool) {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e6 {
		return dd{}, 0, false
	}
	k := math.Round(x / piOver2[0])
	r = dd{x, 0}
	for _, p := range piOver2 {
		r = ddAdd(r, ddNeg(twoProd(k, p)))
	}
	return r, int64(k) & 3, true
}

// ddSinCos returns sin(x) and cos(x) in double-double, ok false when x is
// too large for the simple argument reduction.
func ddSinCos(x float64) (sin, cos dd, ok bool) {
	r, q, ok := ddReduce(x)
	if !ok {
		return dd{}, dd{}, false
	}
	s, c := ddSinSmall(r), ddCosSmall(r)
	switch q {
	case 0:
		return s, c, true
	case 1:
		return c, ddNeg(s), true
	case 2:
		return ddNeg(s), ddNeg(c), true
	default:
		return ddNeg(c), s, true
	}
}

// geoSin is sin correctly rounded (but for huge arguments, where it is
// the math package's).
func geoSin(x float64) float64 {
	if x == 0 {
		return x
	}
	r, q, ok := ddReduce(x)
	if !ok {
		return math.Sin(x)
	}
	var v dd
	switch q {
	case 0:
		v = ddSinSmall(r)
	case 1:
		v = ddCosSmall(r)
	case 2:
		v = ddNeg(ddSinSmall(r))
	default:
		v = ddNeg(ddCosSmall(r))
	}
	return v.hi + v.lo
}

// geoCos is cos correctly rounded (but for huge arguments).
func geoCos(x float64) float64 {
	r, q, ok := ddReduce(x)
	if !ok {
		return math.Cos(x)
	}
	var v dd
	switch q {
	case 0:
		v = ddCosSmall(r)
	case 1:
		v = ddNeg(ddSinSmall(r))
	case 2:
		v = ddNeg(ddCosSmall(r))
	default:
		v = ddSinSmall(r)
	}
	return v.hi + v.lo
}

// geoAsin is asin correctly rounded: Newton steps on sin(a) = y from the
// math package's estimate, with sin evaluated in double-double.
func geoAsin(y float64) float64 {
	switch {
	case math.IsNaN(y) || y > 1 || y < -1:
		return math.NaN()
	case y == 0:
		return y
	case y == 1:
		return math.Pi / 2
	case y == -1:
		return -math.Pi / 2
	}
	a := dd{math.Asin(y), 0}
	for i := 0; i < 3; i++ {
		s, c, _ := ddSinCos(a.hi)
		// sin(a.hi + a.lo) ~ s + c*a.lo
		s = ddAdd(s, ddMulF(c, a.lo))
		f := ddAdd(s, dd{-y, 0}) // residual, computed accurately
		cv := c.hi + c.lo
		if cv == 0 {
			break
		}
		step := -(f.hi + f.lo) / cv
		a = ddAdd(a, dd{step, 0})
		if math.Abs(step) < 0x1p-70*math.Abs(a.hi) {
			break // converged far beyond double precision
		}
	}
	return a.hi + a.lo
}
