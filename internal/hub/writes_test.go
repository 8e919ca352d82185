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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

var _ = Describe("Status writes", func() {
	It("stay at one per satellite per report interval while 100 satellites heartbeat", func() {
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
		resourceVersion := ""
		startWatch := func() watch.Interface {
			GinkgoHelper()
			opts := []client.ListOption{client.InNamespace(ns)}
			if resourceVersion != "" {
				opts = append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
			}
			w, err := watcher.Watch(ctx, &v1alpha1.SatelliteList{}, opts...)
			Expect(err).NotTo(HaveOccurred())
			return w
		}
		w := startWatch()
		defer func() { w.Stop() }()

		heartbeats, writes, rewatches := 0, 0, 0
		bySatellite := map[string]int{}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		deadline := time.After(window)
	loop:
		for {
			select {
			case <-tick.C:
				heartbeatAll()
				heartbeats += len(conns)
			case e, ok := <-w.ResultChan():
				if !ok {
					rewatches++
					w = startWatch()
					continue
				}
				if sat, isSat := e.Object.(*v1alpha1.Satellite); isSat {
					resourceVersion = sat.ResourceVersion
				}
				if sat, isSat := e.Object.(*v1alpha1.Satellite); isSat && e.Type == watch.Modified {
					writes++
					bySatellite[sat.Name]++
				}
			case <-deadline:
				break loop
			}
		}
		GinkgoWriter.Printf("%d satellites, %d heartbeats, %d status writes in %s (report interval %s; watch resumed %d times)\n",
			satellites, heartbeats, writes, window, reportInterval, rewatches)
		// A window of ten intervals holds ten refresh slots of each satellite, and may also see
		// the write of the slot that began just before it, written or seen late; at 100
		// satellites that edge made 1,001 writes on a busy machine. So each satellite may write
		// once per interval, and once more at the edge.
		perSatellite := int(window/reportInterval) + 1
		Expect(writes).To(BeNumerically("<=", satellites*perSatellite),
			"at most one write per satellite per report interval")
		for name, n := range bySatellite {
			Expect(n).To(BeNumerically("<=", perSatellite), "writes of %s in %s", name, window)
		}
		Expect(writes).To(BeNumerically(">", 0), "lastHeartbeatAt is refreshed")
		// The satellites go on heartbeating while they are read, however long that takes.
		for _, c := range conns {
			c.heartbeats(time.Second)
		}
		list := &v1alpha1.SatelliteList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(HaveEach(HaveField("Status.State", v1alpha1.SatelliteOnline)))
	})
})
