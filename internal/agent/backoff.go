/*
Copyright 2026 The Checkstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package agent

import (
	"math/rand/v2"
	"time"
)

// stableAfter is how long a connection must have stayed up for the backoff to start over: a
// manager that accepts and then drops connections at once must not be redialed every second.
const stableAfter = 30 * time.Second

// backoff computes the delays between failed dials. The ceiling starts at min and doubles up to
// max; each delay is drawn uniformly from [0, ceiling] ("full jitter"), which spreads a fleet of
// agents that lost the same manager better than Checkstack's +-25 %.
type backoff struct {
	min, max time.Duration
	// ceiling is the bound of the next delay; 0 means min.
	ceiling time.Duration
	// rand returns a number in [0, n).
	rand func(n int64) int64
}

func newBackoff(lo, hi time.Duration) *backoff {
	return &backoff{min: lo, max: hi, rand: rand.Int64N}
}

// next returns the delay before the next dial and doubles the ceiling of the one after.
func (b *backoff) next() time.Duration {
	ceiling := b.ceiling
	if ceiling <= 0 {
		ceiling = b.min
	}
	b.ceiling = min(2*ceiling, b.max)
	return time.Duration(b.rand(int64(ceiling) + 1))
}

// ended records a connection that was up for upFor (0 when it never authenticated): only one
// that stayed up for stableAfter resets the backoff.
func (b *backoff) ended(upFor time.Duration) {
	if upFor >= stableAfter {
		b.reset()
	}
}

// reset starts the backoff over.
func (b *backoff) reset() { b.ceiling = 0 }
