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

package hub

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/utils/clock"
)

// AdmissionOptions bound the upgrades a manager takes on before they authenticate. A fleet
// redialling after a restart is many addresses each dialling a little; a flood is one address
// dialling a lot. Per-address shares keep the second from starving the first, and a global
// ceiling keeps the sum within what the manager can verify.
type AdmissionOptions struct {
	// Rate and Burst are the global ceiling of upgrades per second. Default 1,000 and 2,000:
	// verifying a token is one SHA-256, so the ceiling is far below what the hub can check and
	// only bounds the goroutines and buffers that unauthenticated connections hold.
	Rate  rate.Limit
	Burst int
	// SourceRate and SourceBurst limit the upgrades from one remote address (an IPv6 /64).
	// Default 100 and 200.
	SourceRate  rate.Limit
	SourceBurst int
	// SourcePending bounds the connections from one address that have not authenticated yet.
	// Default 256.
	SourcePending int
	// Pending bounds all connections that have not authenticated yet. Default 4,096.
	Pending int
}

func (o *AdmissionOptions) defaults() {
	if o.Rate <= 0 {
		o.Rate, o.Burst = 1000, 2000
	}
	if o.Burst <= 0 {
		o.Burst = 2 * int(o.Rate)
	}
	if o.SourceRate <= 0 {
		o.SourceRate, o.SourceBurst = 100, 200
	}
	if o.SourceBurst <= 0 {
		o.SourceBurst = 2 * int(o.SourceRate)
	}
	if o.SourcePending <= 0 {
		o.SourcePending = 256
	}
	if o.Pending <= 0 {
		o.Pending = 4096
	}
}

// maxSources bounds the per-address table; idle entries are swept long before it fills.
const maxSources = 1 << 16

// sourceIdle is how long an address with nothing pending keeps its entry (and so its used-up
// share): long enough that a flooder cannot reset its share by pausing briefly.
const sourceIdle = time.Minute

// Refusal reasons, the label of satellite_handshakes_refused_total.
const (
	refusedSource      = "source"
	refusedGlobal      = "global"
	refusedCredentials = "credentials"
)

// admission hands out the right to upgrade. It holds nothing per satellite, only per address
// that dialled within the last minute.
type admission struct {
	opts   AdmissionOptions
	clock  clock.PassiveClock
	global *rate.Limiter

	mu        sync.Mutex
	pending   int
	sources   map[netip.Prefix]*source
	lastSweep time.Time
}

type source struct {
	limiter  *rate.Limiter
	pending  int
	lastSeen time.Time
}

func newAdmission(opts AdmissionOptions, clk clock.PassiveClock) *admission {
	return &admission{
		opts:    opts,
		clock:   clk,
		global:  rate.NewLimiter(opts.Rate, opts.Burst),
		sources: map[netip.Prefix]*source{},
	}
}

// admit takes a pending slot for an upgrade from remoteAddr (host:port), or returns the reason
// it is refused. release gives the slot back: call it once, when the connection authenticates
// or ends.
func (a *admission) admit(remoteAddr string) (release func(), refused string) {
	key := sourceKey(remoteAddr)
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweepLocked(now)
	src := a.sources[key]
	if src == nil {
		if len(a.sources) >= maxSources {
			return nil, refusedSource
		}
		src = &source{limiter: rate.NewLimiter(a.opts.SourceRate, a.opts.SourceBurst)}
		a.sources[key] = src
	}
	src.lastSeen = now
	if src.pending >= a.opts.SourcePending || !src.limiter.AllowN(now, 1) {
		return nil, refusedSource
	}
	if a.pending >= a.opts.Pending || !a.global.AllowN(now, 1) {
		return nil, refusedGlobal
	}
	src.pending++
	a.pending++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			src.pending--
			a.pending--
			src.lastSeen = a.clock.Now()
		})
	}, ""
}

// sweepLocked forgets idle addresses, at most once every sourceIdle.
func (a *admission) sweepLocked(now time.Time) {
	if now.Sub(a.lastSweep) < sourceIdle {
		return
	}
	a.lastSweep = now
	for key, src := range a.sources {
		if src.pending == 0 && now.Sub(src.lastSeen) >= sourceIdle {
			delete(a.sources, key)
		}
	}
}

// sourceKey is the address a share belongs to: the IPv4 address, or the /64 of an IPv6 one,
// since one host commonly holds a whole /64.
func sourceKey(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}
