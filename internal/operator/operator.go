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

// Package operator wires the manager: the fleet state, the satellites' hub and the
// reconcilers, the same way for cmd/manager and for the tests.
package operator

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/controllers"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/hub"
	"github.com/checkstack/satellite-operator/internal/leadership"
	"github.com/checkstack/satellite-operator/internal/presence"
)

// Config is the operator's settings.
type Config struct {
	// Hub configures the satellites' endpoint.
	Hub hub.Options
	// DisconnectGrace is how long a cleanly disconnected satellite stays Online; 0 means one
	// heartbeat interval.
	DisconnectGrace time.Duration
	// StatusReportInterval sets the write budget: at most one write per satellite per interval,
	// presence Lease and status together. status.lastHeartbeatAt is refreshed every
	// StatusRefreshIntervals of them, and the Lease renewed with what is left (renewInterval).
	StatusReportInterval time.Duration
	// MaxConcurrentReconciles is how many Satellites, and how many assignments, are reconciled
	// at once; 0 means 32. A reconcile waits mostly on its status write, and 10,000 Satellites
	// refresh theirs about 170 times a second: 8 workers at some 40 ms a write were all busy,
	// and a due Offline waited behind the refreshes.
	MaxConcurrentReconciles int
	// Clock is the reconcilers' and the hub's clock; nil means the real one.
	Clock clock.Clock
	// Namespaces confines the operator to these namespaces; empty means every namespace. The
	// manager's cache must be built with CacheOptions of the same namespaces.
	Namespaces []string
	// LeaderElection elects the replica that serves satellites and reconciles; nil means this
	// one does from the start. The manager itself must not elect: a lost Lease ends its terms
	// (see package leadership), not the process and its sessions.
	LeaderElection *leadership.Options
}

// Operator holds the parts that Setup added to the manager.
type Operator struct {
	Hub   *hub.Hub
	Fleet *fleet.Fleet
	// Elector runs the terms of leadership; nil without Config.LeaderElection.
	Elector *leadership.Elector
	// Identity names this replica in the Leases it holds.
	Identity string
}

// CacheOptions limits the manager's cache of Secrets to the token Secrets and of Leases to the
// presence Leases, the only ones the operator reads through it, instead of every one of the
// cluster, and every cached kind to namespaces when any are given. The Secrets that checks may
// use have a cache of their own (Setup): one informer takes one label selector, and a selector
// cannot say "this label or that one".
func CacheOptions(namespaces []string) cache.Options {
	return cache.Options{
		DefaultNamespaces: namespaceConfigs(namespaces),
		// managedFields are a third of a small object, and nothing here reads them: at 10,000
		// Satellites and their Secrets that is megabytes.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:        {Label: labels.SelectorFromSet(labels.Set{v1alpha1.LabelTokenSecret: "true"})},
			&coordinationv1.Lease{}: {Label: presenceLeases},
		},
	}
}

// presenceLeases selects the Leases that carry satellites' presence.
var presenceLeases = func() labels.Selector {
	req, err := labels.NewRequirement(v1alpha1.LabelPresenceSatellite, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant key
	}
	return labels.NewSelector().Add(*req)
}()

// checkSecretsCacheOptions select the Secrets whose owners consent to checks using them.
func checkSecretsCacheOptions(mgr ctrl.Manager, namespaces []string) cache.Options {
	return cache.Options{
		HTTPClient:        mgr.GetHTTPClient(),
		Scheme:            mgr.GetScheme(),
		Mapper:            mgr.GetRESTMapper(),
		DefaultNamespaces: namespaceConfigs(namespaces),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{v1alpha1.LabelCheckSecret: "true"})},
		},
		// It holds Secrets only: a read of another kind is a bug, not a reason to watch that kind.
		ReaderFailOnMissingInformer: true,
	}
}

func namespaceConfigs(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	m := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		m[ns] = cache.Config{}
	}
	return m
}

// Setup adds the hub, the cache of check Secrets and the reconcilers to mgr, which must use
// CacheOptions(cfg.Namespaces).
func Setup(ctx context.Context, mgr ctrl.Manager, cfg Config) (*Operator, error) {
	clk := cfg.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	if cfg.Hub.HeartbeatInterval <= 0 {
		cfg.Hub.HeartbeatInterval = 15 * time.Second
	}
	if cfg.DisconnectGrace <= 0 {
		cfg.DisconnectGrace = cfg.Hub.HeartbeatInterval
	}
	if cfg.StatusReportInterval <= 0 {
		cfg.StatusReportInterval = 60 * time.Second
	}
	if cfg.MaxConcurrentReconciles <= 0 {
		cfg.MaxConcurrentReconciles = 32
	}
	cfg.Hub.Satellites = mgr.GetCache()
	if err := hub.IndexSatellites(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("indexing Satellites by UID: %w", err)
	}

	op := &Operator{}
	// leader stays a nil interface without an election: the reconcilers then always lead.
	var leader controllers.Leadership
	identity := ""
	if cfg.LeaderElection != nil {
		elector, err := newElector(ctx, mgr, *cfg.LeaderElection, op)
		if err != nil {
			return nil, err
		}
		op.Elector, leader, identity = elector, elector, elector.Identity()
	} else {
		id, err := leadership.NewIdentity()
		if err != nil {
			return nil, err
		}
		identity = id
	}
	op.Identity = identity
	var f *fleet.Fleet
	renew := renewInterval(cfg.StatusReportInterval)
	writer := presence.NewWriter(mgr.GetClient(), presence.WriterOptions{
		Identity: identity, RenewInterval: renew,
		Sessions: func() int { return f.Sessions() },
		Written:  func(p fleet.Presence) { f.Written(p) },
	}, ctrl.Log.WithName("presence"))
	if err := mgr.Add(writer); err != nil {
		return nil, fmt.Errorf("adding the presence writer: %w", err)
	}
	f = fleet.New(fleet.Options{StatusRefresh: cfg.StatusReportInterval, Presence: writer, RenewInterval: renew}, clk)
	op.Fleet = f
	if err := presence.Watch(ctx, mgr.GetCache(), identity, f); err != nil {
		return nil, err
	}
	if err := mgr.Add(silenceSweep{fleet: f, clock: clk}); err != nil {
		return nil, fmt.Errorf("adding the sweep of silent sessions: %w", err)
	}
	h := hub.New(cfg.Hub, f, clk, ctrl.Log.WithName("hub"))
	if err := mgr.Add(h); err != nil {
		return nil, fmt.Errorf("adding the hub: %w", err)
	}
	op.Hub = h
	checkSecrets, err := cache.New(mgr.GetConfig(), checkSecretsCacheOptions(mgr, cfg.Namespaces))
	if err != nil {
		return nil, fmt.Errorf("creating the cache of check Secrets: %w", err)
	}
	// The controller's watch on it waits for it to sync before the first reconcile.
	if err := mgr.Add(checkSecrets); err != nil {
		return nil, fmt.Errorf("adding the cache of check Secrets: %w", err)
	}
	recorder := mgr.GetEventRecorder("satellite-operator")
	if err := (&controllers.SatelliteReconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Recorder:        recorder,
		Clock:           clk,
		Fleet:           f,
		Presence:        presence.NewObserver(clk),
		Leader:          leader,
		DisconnectGrace: cfg.DisconnectGrace,
		RefreshInterval: StatusRefreshIntervals * cfg.StatusReportInterval,
	}).SetupWithManager(ctx, mgr, cfg.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("setting up the Satellite controller: %w", err)
	}
	if err := (&controllers.HealthCheckAssignmentReconciler{
		Client:       mgr.GetClient(),
		CheckSecrets: checkSecrets,
		Recorder:     recorder,
		Clock:        clk,
		Fleet:        f,
		Leader:       leader,
	}).SetupWithManager(ctx, mgr, cfg.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("setting up the HealthCheckAssignment controller: %w", err)
	}
	// Every replica serves satellites, so every replica is Ready once its hub can authenticate
	// them, leading or not.
	if err := mgr.AddReadyzCheck("satellites", op.Hub.ReadyCheck); err != nil {
		return nil, fmt.Errorf("adding the satellites' ready check: %w", err)
	}
	return op, nil
}

// newElector adds to mgr the election of the leader, whose terms start and stop the leader's
// part of op, the reconcilers' writes: each term starts from everything the cache holds. The
// sessions are no part of it; every replica serves its own, leading or not.
func newElector(ctx context.Context, mgr ctrl.Manager, opts leadership.Options, op *Operator) (*leadership.Elector, error) {
	log := ctrl.Log.WithName("leader-election")
	var leader atomic.Value // the other replica last logged as the leader
	elector, err := leadership.New(mgr.GetConfig(), opts, leadership.Callbacks{
		StartedLeading: func(bool) { go wakeAll(ctx, mgr.GetCache(), op.Fleet, log) },
		StoppedLeading: func() {},
		OtherHolder: func(holder string) {
			if leader.Swap(holder) != holder {
				log.Info("Another replica leads", "leader", holder)
			}
		},
	}, log)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(elector); err != nil {
		return nil, fmt.Errorf("adding the leader election: %w", err)
	}
	return elector, nil
}

// wakeAll wakes the reconcilers for every Satellite and assignment in the cache and in the fleet.
func wakeAll(ctx context.Context, c client.Reader, f *fleet.Fleet, log logr.Logger) {
	sats := &v1alpha1.SatelliteList{}
	hcas := &v1alpha1.HealthCheckAssignmentList{}
	// Only the keys are read, so the cache's objects need no copies.
	if err := c.List(ctx, sats, client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "Listing Satellites for the new term")
	}
	if err := c.List(ctx, hcas, client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "Listing assignments for the new term")
	}
	satKeys := make([]types.NamespacedName, 0, len(sats.Items))
	for i := range sats.Items {
		satKeys = append(satKeys, client.ObjectKeyFromObject(&sats.Items[i]))
	}
	hcaKeys := make([]types.NamespacedName, 0, len(hcas.Items))
	for i := range hcas.Items {
		hcaKeys = append(hcaKeys, client.ObjectKeyFromObject(&hcas.Items[i]))
	}
	f.WakeAll(satKeys, hcaKeys)
}

// renewInterval is the least time between two renewals of a presence Lease: with the status
// refresh every StatusRefreshIntervals report intervals, the budget of one write per satellite
// per report interval leaves the renewals (n-1)/n of it.
func renewInterval(reportInterval time.Duration) time.Duration {
	return reportInterval * StatusRefreshIntervals / (StatusRefreshIntervals - 1)
}

// StatusRefreshIntervals is how many presence renewals pass between two refreshes of an Online
// satellite's status.lastHeartbeatAt: the Lease carries the heartbeats, and the status is
// written for transitions and, this coarsely, to show that the manager still watches.
const StatusRefreshIntervals = 10

// silenceSweep publishes, about once a second, the sessions whose satellites stopped sending
// heartbeats, on every replica: each replica is the one that sees its own sessions' silence.
type silenceSweep struct {
	fleet *fleet.Fleet
	clock clock.Clock
}

func (s silenceSweep) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.clock.After(time.Second):
			s.fleet.SweepSilent()
		}
	}
}

// NeedLeaderElection is false: every replica sweeps its own sessions.
func (silenceSweep) NeedLeaderElection() bool { return false }
