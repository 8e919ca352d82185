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

package hub_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

var _ = Describe("Status writes", func() {
	It("stay at one per satellite per report interval, Leases and status together, while 100 satellites heartbeat", func() {
		const (
			satellites = 100
			window     = 20 * time.Second // ten report intervals
		)
		ctx := context.Background()
		ns := newNamespace(ctx)
		sats := make([]*satellite, satellites)
		conns := make([]*conn, satellites)
		for i := range sats {
			sats[i] = createSatellite(ctx, ns, fmt.Sprintf("sat-%03d", i), "eu-west-1", nil)
		}
		// Connecting takes well under the 5 s threshold, so none goes Offline before the loop.
		for i := range sats {
			conns[i], _ = connect(sats[i])
			conns[i].send(&protocol.Heartbeat{Version: "0.1.0"})
		}
		defer func() {
			for _, c := range conns {
				c.close()
			}
		}()
		heartbeatAll := func() {
			for _, c := range conns {
				c.send(&protocol.Heartbeat{Version: "0.1.0", UptimeSeconds: 1})
			}
		}
		Eventually(func() int {
			heartbeatAll()
			list := &v1alpha1.SatelliteList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			online := 0
			for _, s := range list.Items {
				if s.Status.State == v1alpha1.SatelliteOnline && s.Status.Version == "0.1.0" {
					online++
				}
			}
			return online
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Equal(satellites))

		watcher, err := client.NewWithWatch(running.Config, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		// The API server may end a watch at any time; it is resumed from the last version seen,
		// so that no write goes uncounted and a closed channel is not read as silence.
		type resumable struct {
			list            client.ObjectList
			resourceVersion string
			w               watch.Interface
		}
		start := func(r *resumable) {
			GinkgoHelper()
			opts := []client.ListOption{client.InNamespace(ns)}
			if r.resourceVersion != "" {
				opts = append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: r.resourceVersion}})
			}
			var err error
			r.w, err = watcher.Watch(ctx, r.list, opts...)
			Expect(err).NotTo(HaveOccurred())
		}
		// The Leases are watched from now, too: their creation is behind us, and every
		// renewal is a write of its own.
		leaseList := &coordinationv1.LeaseList{}
		Expect(k8sClient.List(ctx, leaseList, client.InNamespace(ns))).To(Succeed())
		satWatch := &resumable{list: &v1alpha1.SatelliteList{}}
		leases := &resumable{list: &coordinationv1.LeaseList{}, resourceVersion: leaseList.ResourceVersion}
		start(satWatch)
		start(leases)
		defer func() { satWatch.w.Stop(); leases.w.Stop() }()

		heartbeats, writes, leaseWrites, rewatches := 0, 0, 0, 0
		bySatellite := map[string]int{}
		modified := func(r *resumable, e watch.Event, ok bool) (client.Object, bool) {
			if !ok {
				rewatches++
				start(r)
				return nil, false
			}
			obj, isObj := e.Object.(client.Object)
			if !isObj {
				return nil, false // a watch error; the next event, or the resumed watch, goes on
			}
			r.resourceVersion = obj.GetResourceVersion()
			return obj, e.Type == watch.Modified
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		deadline := time.After(window)
	loop:
		for {
			select {
			case <-tick.C:
				heartbeatAll()
				heartbeats += len(conns)
			case e, ok := <-satWatch.w.ResultChan():
				if obj, isWrite := modified(satWatch, e, ok); isWrite {
					writes++
					bySatellite[obj.GetName()]++
				}
			case e, ok := <-leases.w.ResultChan():
				if obj, isWrite := modified(leases, e, ok); isWrite {
					leaseWrites++
					bySatellite[obj.GetLabels()[v1alpha1.LabelPresenceSatellite]]++
				}
			case <-deadline:
				break loop
			}
		}
		GinkgoWriter.Printf("%d satellites, %d heartbeats, %d Lease writes and %d status writes in %s (report interval %s; watches resumed %d times)\n",
			satellites, heartbeats, leaseWrites, writes, window, reportInterval, rewatches)
		// A window of ten intervals holds ten refresh slots of each satellite, and may also see
		// the write of the slot that began just before it, written or seen late; at 100
		// satellites that edge made 1,001 writes on a busy machine. So each satellite may write
		// once per interval, and once more at the edge.
		perSatellite := int(window/reportInterval) + 1
		// The status of an Online satellite is refreshed once per ten intervals, which this
		// window may or may not hold: its writes count in the budget, but need not be there.
		Expect(leaseWrites+writes).To(BeNumerically("<=", satellites*perSatellite),
			"at most one write per satellite per report interval")
		for name, n := range bySatellite {
			Expect(n).To(BeNumerically("<=", perSatellite), "writes of %s in %s", name, window)
		}
		Expect(leaseWrites).To(BeNumerically(">", 0), "the presence Leases are renewed")
		// The satellites go on heartbeating while they are read, however long that takes.
		for _, c := range conns {
			c.heartbeats(time.Second)
		}
		list := &v1alpha1.SatelliteList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(HaveEach(HaveField("Status.State", v1alpha1.SatelliteOnline)))
	})
})
