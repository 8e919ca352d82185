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

package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// maxStatusBytes is the bound on an assignment's status at any selection size.
const maxStatusBytes = 256 << 10

var _ = Describe("An assignment that selects 1,000 satellites", func() {
	const fleetSize = 1000
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1"}

	It("keeps its status small with the right counts, and costs no Satellite status write", func() {
		ctx := context.Background()
		ns := newNamespace(ctx)

		By("creating the satellites and waiting for each first status")
		sats := make([]*v1alpha1.Satellite, fleetSize)
		var wg sync.WaitGroup
		work := make(chan int)
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range work {
					sats[i] = &v1alpha1.Satellite{
						ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("sat-%04d", i), Labels: map[string]string{"tier": "edge"}},
						Spec:       v1alpha1.SatelliteSpec{Region: regions[i%len(regions)], OfflineThresholdSeconds: ptr.To[int32](45)},
					}
					Expect(k8sClient.Create(ctx, sats[i])).To(Succeed())
				}
			})
		}
		for i := range fleetSize {
			work <- i
		}
		close(work)
		wg.Wait()
		offline := func() int {
			list := &v1alpha1.SatelliteList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			n := 0
			for _, s := range list.Items {
				if s.Status.State == v1alpha1.SatelliteOffline && s.Status.Conditions != nil {
					n++
				}
			}
			return n
		}
		Eventually(offline).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal(fleetSize))

		By("watching the Satellites' writes from here on")
		list := &v1alpha1.SatelliteList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		watcher, err := client.NewWithWatch(running.Config, client.Options{Scheme: controlplane.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		w, err := watcher.Watch(ctx, &v1alpha1.SatelliteList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		var writes sync.Map // name -> count
		total := func() int {
			n := 0
			writes.Range(func(_, v any) bool { n += v.(int); return true })
			return n
		}
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified {
					name := ev.Object.(*v1alpha1.Satellite).Name
					v, _ := writes.LoadOrStore(name, 0)
					writes.Store(name, v.(int)+1)
				}
			}
		}()

		By("creating an assignment that selects all of them")
		hca := &v1alpha1.HealthCheckAssignment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "everywhere"},
			Spec: v1alpha1.HealthCheckAssignmentSpec{
				System:            "payments-api",
				Check:             v1alpha1.CheckSpec{Type: v1alpha1.CheckTCP, TCP: &v1alpha1.TCPCheck{Host: "db.example.com", Port: 5432}},
				SatelliteSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "edge"}},
			},
		}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		status := func() v1alpha1.HealthCheckAssignmentStatus {
			got := &v1alpha1.HealthCheckAssignment{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), got)).To(Succeed())
			return got.Status
		}
		Eventually(status).Should(HaveField("SelectedSatellites", BeEquivalentTo(fleetSize)))
		Expect(status()).To(And(
			// None ever connected: all are Offline, and counted as such.
			HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Offline: fleetSize}))),
			HaveField("Satellites", HaveLen(100)),
			HaveField("SatellitesTruncated", BeTrue()),
			HaveField("Regions", ConsistOf(
				v1alpha1.RegionCheckSummary{Region: "ap-south-1", CheckSummary: v1alpha1.CheckSummary{Offline: 333}},
				v1alpha1.RegionCheckSummary{Region: "eu-west-1", CheckSummary: v1alpha1.CheckSummary{Offline: 334}},
				v1alpha1.RegionCheckSummary{Region: "us-east-1", CheckSummary: v1alpha1.CheckSummary{Offline: 333}},
			))))
		// The relayed count of each Satellite changed; it rides along with a later write.
		Consistently(total).WithTimeout(3*time.Second).Should(BeNumerically("<=", 10),
			"Satellite status writes after creating one assignment that selects %d", fleetSize)
		writesForAssignment := total()

		By("reporting: 150 satellites see the check unhealthy, 300 healthy")
		var handlesMu sync.Mutex
		var handles []fleet.Handle
		// The satellites heartbeat, as agents do, so that none turns Offline while the spec waits.
		stopHeartbeats := make(chan struct{})
		defer close(stopHeartbeats)
		go func() {
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopHeartbeats:
					return
				case <-t.C:
					handlesMu.Lock()
					for _, h := range handles {
						fleetState.Heartbeat(h, "0.1.0", nil)
					}
					handlesMu.Unlock()
				}
			}
		}()
		report := func(i int, s v1alpha1.ResultStatus) {
			secret := &corev1.Secret{}
			Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: sats[i].Name + "-token"}, secret)).To(Succeed())
			h, _, err := fleetState.Authenticate(string(secret.Data[v1alpha1.SecretKeyClientID]), string(secret.Data[v1alpha1.SecretKeyToken]), []string{protocol.CapabilityCheckConfig}, sessionStub{})
			Expect(err).NotTo(HaveOccurred())
			handlesMu.Lock()
			handles = append(handles, h)
			handlesMu.Unlock()
			Expect(fleetState.Ingest(h, &protocol.Result{ConfigID: string(hca.UID), SystemID: "payments-api", Status: s,
				Result: &protocol.ResultDetail{Status: s, Message: "connection refused by db.example.com:5432"}, ExecutedAt: time.Now()})).To(Equal(string(s)))
		}
		Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca) }).Should(Succeed())
		for i := range 450 {
			if i < 150 {
				report(i, v1alpha1.ResultUnhealthy)
			} else {
				report(i, v1alpha1.ResultHealthy)
			}
		}
		// The 450 that connected count once their reconciler judged them Online, 450 status
		// writes that take their time on a loaded machine; the others stay Offline.
		Eventually(status).WithTimeout(2 * time.Minute).WithPolling(time.Second).
			Should(HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Healthy: 300, Unhealthy: 150, Offline: 550}))))
		st := status()
		Expect(st.State).To(Equal(v1alpha1.CheckUnhealthy))
		Expect(st.Satellites).To(HaveLen(100))
		Expect(st.SatellitesTruncated).To(BeTrue())
		Expect(st.Satellites[0]).To(And(HaveField("Name", "sat-0000"), HaveField("Status", v1alpha1.ResultUnhealthy)))
		raw, err := json.Marshal(st)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(raw)).To(BeNumerically("<", maxStatusBytes))
		GinkgoWriter.Printf("status of an assignment selecting %d satellites: %d bytes; %d Satellite status writes for its creation\n",
			fleetSize, len(raw), writesForAssignment)
	})
})
