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

package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
)

// satRecord is what the watch saw of one Satellite.
type satRecord struct {
	state          v1alpha1.SatelliteState
	connectedSince time.Time
	lastHeartbeat  time.Time // status.lastHeartbeatAt
	// offlineAt lists when the watch saw the Satellite turn Offline from Online.
	offlineAt []time.Time
}

// fleetWatch follows the namespace's Satellites and token Secrets through an informer and
// timestamps what it sees on receipt.
type fleetWatch struct {
	cache cache.Cache

	mu      sync.Mutex
	sats    map[string]*satRecord
	tokens  map[string]bool // Secret names with both keys
	waiters map[*waiter]struct{}
	// tokensChanged is closed and replaced whenever the set of complete token Secrets grows.
	tokensChanged chan struct{}
}

// waiter waits until pred holds for every Satellite of names, and remembers when the watch first
// saw it hold for each (it forgets a Satellite for which it stops holding).
type waiter struct {
	names map[string]bool
	pred  func(*satRecord) bool
	at    map[string]time.Time
	done  chan struct{}
}

func startWatch(ctx context.Context, c *cluster, namespace string) (*fleetWatch, error) {
	ca, err := cache.New(c.cfg, cache.Options{
		Scheme:            controlplane.Scheme(),
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
	})
	if err != nil {
		return nil, err
	}
	w := &fleetWatch{cache: ca, sats: map[string]*satRecord{}, tokens: map[string]bool{},
		waiters: map[*waiter]struct{}{}, tokensChanged: make(chan struct{})}
	satInf, err := ca.GetInformer(ctx, &v1alpha1.Satellite{})
	if err != nil {
		return nil, err
	}
	if _, err := satInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.satellite(o) },
		UpdateFunc: func(_, o any) { w.satellite(o) },
	}); err != nil {
		return nil, err
	}
	secInf, err := ca.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return nil, err
	}
	if _, err := secInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.secret(o) },
		UpdateFunc: func(_, o any) { w.secret(o) },
	}); err != nil {
		return nil, err
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the watch's cache did not sync")
	}
	return w, nil
}

func (w *fleetWatch) satellite(o any) {
	sat, ok := o.(*v1alpha1.Satellite)
	if !ok {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.sats[sat.Name]
	if r == nil {
		r = &satRecord{}
		w.sats[sat.Name] = r
	}
	if r.state == v1alpha1.SatelliteOnline && sat.Status.State == v1alpha1.SatelliteOffline {
		r.offlineAt = append(r.offlineAt, now)
	}
	r.state = sat.Status.State
	r.connectedSince = time.Time{}
	if sat.Status.ConnectedSince != nil {
		r.connectedSince = sat.Status.ConnectedSince.Time
	}
	r.lastHeartbeat = time.Time{}
	if sat.Status.LastHeartbeatAt != nil {
		r.lastHeartbeat = sat.Status.LastHeartbeatAt.Time
	}
	for wt := range w.waiters {
		wt.update(sat.Name, r, now)
	}
}

func (w *fleetWatch) secret(o any) {
	s, ok := o.(*corev1.Secret)
	if !ok || !strings.HasSuffix(s.Name, "-token") || len(s.Data["token"]) == 0 || len(s.Data["clientId"]) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.tokens[s.Name] {
		w.tokens[s.Name] = true
		close(w.tokensChanged)
		w.tokensChanged = make(chan struct{})
	}
}

func (wt *waiter) update(name string, r *satRecord, now time.Time) {
	if !wt.names[name] {
		return
	}
	if !wt.pred(r) {
		delete(wt.at, name)
		return
	}
	if _, ok := wt.at[name]; !ok {
		wt.at[name] = now
		if len(wt.at) == len(wt.names) {
			select {
			case <-wt.done:
			default:
				close(wt.done)
			}
		}
	}
}

// waitFor waits until pred holds for every Satellite named, and returns when the watch first saw
// it hold for each; on a timeout it returns those it has and an error.
func (w *fleetWatch) waitFor(ctx context.Context, names []string, timeout time.Duration, pred func(*satRecord) bool) (map[string]time.Time, error) {
	wt := &waiter{names: map[string]bool{}, pred: pred, at: map[string]time.Time{}, done: make(chan struct{})}
	for _, n := range names {
		wt.names[n] = true
	}
	now := time.Now()
	w.mu.Lock()
	w.waiters[wt] = struct{}{}
	for n := range wt.names {
		if r := w.sats[n]; r != nil {
			wt.update(n, r, now)
		}
	}
	w.mu.Unlock()
	if len(names) == 0 {
		close(wt.done)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-wt.done:
	case <-t.C:
		err = fmt.Errorf("not within %s", timeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	w.mu.Lock()
	delete(w.waiters, wt)
	at := make(map[string]time.Time, len(wt.at))
	for k, v := range wt.at {
		at[k] = v
	}
	w.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("%d of %d Satellites: %w", len(names)-len(at), len(names), err)
	}
	return at, err
}

// offlineSince counts the Online-to-Offline transitions seen at or after t.
func (w *fleetWatch) offlineSince(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.sats {
		for _, at := range r.offlineAt {
			if !at.Before(t) {
				n++
			}
		}
	}
	return n
}

// waitTokens waits until n token Secrets hold both keys.
func (w *fleetWatch) waitTokens(ctx context.Context, n int, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		w.mu.Lock()
		got, ch := len(w.tokens), w.tokensChanged
		w.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-t.C:
			return fmt.Errorf("%d of %d token Secrets within %s", got, n, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// credentials reads every satellite's credentials from its token Secret, in the order of names.
func (w *fleetWatch) credentials(ctx context.Context, namespace string, names []string) ([]credential, error) {
	list := &corev1.SecretList{}
	if err := w.cache.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	byName := map[string]*corev1.Secret{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	out := make([]credential, 0, len(names))
	for _, n := range names {
		s := byName[n+"-token"]
		if s == nil {
			return nil, fmt.Errorf("no Secret %s-token", n)
		}
		out = append(out, credential{Name: n, ClientID: string(s.Data["clientId"]), Token: string(s.Data["token"])})
	}
	return out, nil
}
