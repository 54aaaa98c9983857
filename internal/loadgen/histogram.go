package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 1<<(subBits-1) buckets, so a recorded value is known to within 1/64
// (1.6 %) of itself. Values below 1<<subBits nanoseconds are exact.
const (
	subBits  = 7
	subCount = 1 << subBits
	subHalf  = subCount / 2
	maxShift = 64 - subBits
	nBuckets = subCount + maxShift*subHalf
)

// Histogram records durations with a bounded relative error, in constant
// memory (about 30 KiB), as HdrHistogram does. The zero value is empty and
// ready to use. A Histogram is not safe for concurrent use: give each
// goroutine its own and Merge them.
type Histogram struct {
	counts   [nBuckets]uint64
	count    uint64
	sum      uint64
	min, max uint64
}

// bucket returns the index of the bucket holding v.
func bucket(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // ≥ 1
	mantissa := v >> shift           // in [subHalf, subCount)
	return subCount + (shift-1)*subHalf + int(mantissa-subHalf)
}

// bounds returns the smallest and largest value bucket i holds.
func bounds(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := (i-subCount)/subHalf + 1
	mantissa := uint64((i-subCount)%subHalf + subHalf)
	lo = mantissa << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0)) // nanoseconds
	h.counts[bucket(v)]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += v
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.count += o.count
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.count }

// Min is the smallest value recorded, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max is the largest value recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average of the values recorded, exactly.
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / h.count)
}

// Quantile returns the value below which a fraction q (0…1) of the
// recorded values fall: the middle of the bucket holding the value of rank
// ceil(q·count), kept within [Min, Max]. It is 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bounds(i)
			mid := lo + (hi-lo)/2
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
