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

package presence

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
)

// Fleet is the fleet's side of what other replicas write: the fence, which closes a session of
// this replica that another replica's newer session of the same satellite supersedes, the
// replacements that hold agents sharing an identity down, and the views they took results for.
type Fleet interface {
	Displaced(uid types.UID, e fleet.Elsewhere)
	ObserveReplacements(uid types.UID, replacements []time.Time)
	ObserveViews(uid types.UID, views []fleet.PublishedView)
}

// Watch hands every presence Lease that another replica wrote to f, from the cache's informer,
// so that a replica closes its session of a satellite as soon as it sees the Lease taken for a
// newer session elsewhere, and every replica holds every satellite's views (the leader to
// judge the assignments, any replica to take a satellite over). It runs on every replica.
func Watch(ctx context.Context, c cache.Cache, identity string, f Fleet) error {
	informer, err := c.GetInformer(ctx, &coordinationv1.Lease{})
	if err != nil {
		return fmt.Errorf("getting the informer of presence Leases: %w", err)
	}
	handle := func(obj any) {
		lease, ok := obj.(*coordinationv1.Lease)
		if !ok || lease.Labels[v1alpha1.LabelPresenceSatellite] == "" || lease.Spec.AcquireTime == nil {
			return
		}
		uid := ownerUID(lease)
		// This replica's own Leases too: a write merges the record another replica left there.
		if r := Replacements(lease); len(r) > 0 {
			f.ObserveReplacements(uid, r)
		}
		h := holder(lease)
		if h == "" || h == identity {
			return
		}
		f.Displaced(uid, fleet.Elsewhere{
			Holder:     h,
			Since:      lease.Spec.AcquireTime.Time,
			Open:       live(lease),
			Silent:     lease.Annotations[v1alpha1.AnnotationPresence] == v1alpha1.PresenceSilent,
			RemoteAddr: lease.Annotations[v1alpha1.AnnotationRemoteAddress],
			For:        duration(lease),
		})
		f.ObserveViews(uid, Views(lease))
	}
	_, err = informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { handle(obj) },
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	if err != nil {
		return fmt.Errorf("watching presence Leases: %w", err)
	}
	return nil
}
