package auditgen

import (
	"math"
	"math/bits"
)

// rng is a small deterministic pseudo-random generator (wyrand). The
// generator carries its own instead of math/rand so that the output, and
// with it the embedded demo, stays byte-identical across Go releases.
type rng struct{ s uint64 }

// newRNG returns a generator whose sequence depends only on seed.
func newRNG(seed uint64) rng {
	r := rng{s: seed ^ 0x9e3779b97f4a7c15}
	r.u64()
	return r
}

// u64 returns 64 uniformly distributed bits.
func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a uniform integer in [0, n). n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// exp returns an exponentially distributed value with mean 1.
func (r *rng) exp() float64 { return -math.Log(1 - r.float()) }

// norm returns a standard normally distributed value.
func (r *rng) norm() float64 {
	u := 1 - r.float()
	v := r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}

// latency returns a log-normally distributed duration in microseconds with
// the given median (µs) and shape sigma, never below 80 µs.
func (r *rng) latency(median float64, sigma float64) int64 {
	us := int64(median * math.Exp(sigma*r.norm()))
	if us < 80 {
		us = 80
	}
	return us
}

// pick returns a uniformly chosen element of s.
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// weighted chooses among n options by integer weights.
type weighted struct {
	cum []int
}

// newWeighted returns a chooser over weights (all non-negative, sum > 0).
func newWeighted(weights []int) weighted {
	w := weighted{cum: make([]int, len(weights))}
	sum := 0
	for i, x := range weights {
		sum += x
		w.cum[i] = sum
	}
	return w
}

// choose returns an index drawn with probability proportional to its weight.
func (w weighted) choose(r *rng) int {
	x := r.intn(w.cum[len(w.cum)-1])
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}
