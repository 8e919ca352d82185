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

package checks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// defaultTimeout bounds a run whose config carries no timeout, so that no probe runs unbounded;
// it is the CRD's default spec.check.timeout.
const defaultTimeout = 10 * time.Second

// maxMessageLen is the bound of status.satellites[].message in the CRD: a longer message would
// make the manager's status write fail.
const maxMessageLen = 1024

// Outcome is what one run of a check saw, ready to be sent as a protocol.Result.
type Outcome struct {
	// Status is healthy, degraded or unhealthy.
	Status v1alpha1.ResultStatus
	// Latency is how long the probe took, including name resolution and connection setup.
	Latency time.Duration
	// Message says what the probe saw when it passed, or why it failed.
	Message string
	// Metadata holds details of the probe, such as statusCode or daysUntilExpiry; it is never
	// nil, because the wire protocol's metadata is an object, not null.
	Metadata map[string]any
}

// finding is what a probe saw. A probe returns it even when it fails, so that details such as
// the status code of a rejected answer still reach the result.
type finding struct {
	message  string
	metadata map[string]any
	// degraded says why a probe that passed is degraded nonetheless (a certificate near its
	// expiry); empty when nothing but latency can degrade it.
	degraded string
}

// probe runs one kind of check against cfg until ctx is done; a non-nil error means the target
// failed the check, and its text is the result's message.
type probe func(ctx context.Context, cfg *protocol.CheckConfig) (finding, error)

// probes maps each strategyId to its executor.
var probes = map[string]probe{
	string(v1alpha1.CheckHTTP): probeHTTP,
	string(v1alpha1.CheckTCP):  probeTCP,
	string(v1alpha1.CheckDNS):  probeDNS,
	string(v1alpha1.CheckTLS):  probeTLS,
	string(v1alpha1.CheckGRPC): probeGRPC,
	string(v1alpha1.CheckICMP): probeICMP,
}

// Supported reports whether Run can execute checks of strategyID; the agent answers any other
// strategy with a strategy_error frame instead of running it.
func Supported(strategyID string) bool {
	_, ok := probes[strategyID]
	return ok
}

// Run executes one check of strategyID with cfg, bounded by cfg.TimeoutMs, and classifies it:
// unhealthy when the probe fails (or the strategy is unsupported, or cfg lacks its block),
// degraded when it passes slower than cfg.DegradedLatencyMs or with another reason to worry,
// healthy otherwise. Run never panics on a malformed config.
func Run(ctx context.Context, strategyID string, cfg *protocol.CheckConfig) (out Outcome) {
	p, ok := probes[strategyID]
	if !ok {
		return unhealthy(0, fmt.Sprintf("unsupported strategy %q, want one of %v", strategyID, strategies()))
	}
	if cfg == nil {
		return unhealthy(0, "missing check config")
	}

	timeout := time.Duration(cfg.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	// The limit that ends the run: ours, or the caller's when that comes first.
	limit := timeout
	if d, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(d).Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	// One broken probe must not take down an agent that runs a thousand others.
	defer func() {
		if r := recover(); r != nil {
			out = unhealthy(time.Since(start), fmt.Sprintf("probe panicked: %v", r))
		}
	}()
	f, err := p(ctx, cfg)
	latency := time.Since(start)

	out = Outcome{Status: v1alpha1.ResultHealthy, Latency: latency, Message: f.message, Metadata: f.metadata}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	switch {
	case err != nil:
		out.Status = v1alpha1.ResultUnhealthy
		out.Message = err.Error()
		// The probe's own error often says only "context deadline exceeded" or "i/o timeout";
		// say which limit was hit so that the user knows what to raise. A socket deadline set to
		// the context's can fire before the context's own timer, so the clock decides too.
		if deadline, _ := ctx.Deadline(); errors.Is(ctx.Err(), context.DeadlineExceeded) || !time.Now().Before(deadline) {
			out.Message = fmt.Sprintf("timed out after %v: %s", limit, out.Message)
		}
	case f.degraded != "":
		out.Status = v1alpha1.ResultDegraded
		out.Message = joinMessage(f.message, f.degraded)
	case cfg.DegradedLatencyMs > 0 && latency > time.Duration(cfg.DegradedLatencyMs)*time.Millisecond:
		out.Status = v1alpha1.ResultDegraded
		out.Message = joinMessage(f.message, fmt.Sprintf("latency %v over %v",
			latency.Round(time.Millisecond), time.Duration(cfg.DegradedLatencyMs)*time.Millisecond))
	}
	out.Message = truncate(out.Message, maxMessageLen)
	return out
}

// unhealthy is the outcome of a run that failed before or without a probe.
func unhealthy(latency time.Duration, message string) Outcome {
	return Outcome{
		Status:   v1alpha1.ResultUnhealthy,
		Latency:  latency,
		Message:  truncate(message, maxMessageLen),
		Metadata: map[string]any{},
	}
}

// errMissingBlock is the error of a config without the block its strategy needs, which the
// manager never sends but an older or foreign one might.
func errMissingBlock(strategy v1alpha1.CheckType) error {
	return fmt.Errorf("missing %s block in check config", strategy)
}

// strategies lists the supported strategy IDs in a stable order, for messages.
func strategies() []string {
	return slices.Sorted(maps.Keys(probes))
}

// joinMessage appends why a passing probe is degraded to what it saw.
func joinMessage(message, why string) string {
	if message == "" {
		return why
	}
	return message + "; " + why
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRightFunc(s[:cut], func(r rune) bool { return r == ' ' }) + ellipsis
}
