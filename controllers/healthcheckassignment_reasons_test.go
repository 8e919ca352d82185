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
	"io"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

var _ = Describe("HealthCheckAssignment states that say why", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	// printed returns the columns the API server prints for the assignment, as kubectl get hca
	// shows them: the server-side Table of the CRD's printer columns.
	printed := func(name string) func() map[string]string {
		return func() map[string]string {
			hc, err := rest.HTTPClientFor(running.Config)
			Expect(err).NotTo(HaveOccurred())
			url := fmt.Sprintf("%s/apis/%s/namespaces/%s/healthcheckassignments/%s", strings.TrimRight(running.Config.Host, "/"), v1alpha1.GroupVersion, ns, name)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
			resp, err := hc.Do(req)
			Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.StatusCode).To(Equal(http.StatusOK), url+": "+string(body))
			table := &metav1.Table{}
			Expect(json.Unmarshal(body, table)).To(Succeed())
			Expect(table.Rows).To(HaveLen(1))
			out := map[string]string{}
			for i, col := range table.ColumnDefinitions {
				out[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
			}
			return out
		}
	}
	// events returns the Events about the assignment with the reason, as the API stores them; an
	// Event the recorder repeated carries a series and counts twice, so it cannot pass as one.
	events := func(name, reason string) func() int {
		return func() int {
			list := &eventsv1.EventList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			n := 0
			for _, e := range list.Items {
				if e.Regarding.Kind == "HealthCheckAssignment" && e.Regarding.Name == name && e.Reason == reason {
					n++
					if e.Series != nil {
						n++
					}
				}
			}
			return n
		}
	}
	newHCA := func(name string, mutate func(*v1alpha1.HealthCheckAssignmentSpec)) *v1alpha1.HealthCheckAssignment {
		hca := &v1alpha1.HealthCheckAssignment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.HealthCheckAssignmentSpec{
				System:     "payments-api",
				Check:      v1alpha1.CheckSpec{Type: v1alpha1.CheckTCP, TCP: &v1alpha1.TCPCheck{Host: "db.example.com", Port: 5432}},
				Satellites: []string{"eu-west"},
			},
		}
		mutate(&hca.Spec)
		return hca
	}

	DescribeTable("every reason but Relayed shows in kubectl get hca and emits exactly one Warning Event",
		func(reason, state string, mutate func(*v1alpha1.HealthCheckAssignmentSpec)) {
			// A Satellite that exists but never connected, for the specs that select it.
			Expect(k8sClient.Create(ctx, &v1alpha1.Satellite{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eu-west"},
				Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1"},
			})).To(Succeed())
			hca := newHCA("why", mutate)
			Expect(k8sClient.Create(ctx, hca)).To(Succeed())
			Eventually(printed("why")).Should(And(
				HaveKeyWithValue("Ready", "False"), HaveKeyWithValue("Reason", reason), HaveKeyWithValue("State", state)))
			Eventually(events("why", reason)).Should(Equal(1))
			// A change that keeps the reason announces nothing again.
			Eventually(func() error {
				Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
				hca.Spec.System = "payments-api-v2"
				return k8sClient.Update(ctx, hca) // the status may change in between
			}).Should(Succeed())
			Eventually(func() int64 {
				Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
				return hca.Status.ObservedGeneration
			}).Should(Equal(hca.Generation))
			Consistently(events("why", reason)).Should(Equal(1))
			Expect(printed("why")()).To(HaveKeyWithValue("Reason", reason))
		},
		Entry("Paused", v1alpha1.ReasonPaused, string(v1alpha1.CheckPaused), func(s *v1alpha1.HealthCheckAssignmentSpec) { s.Paused = true }),
		Entry("InvalidSelector", v1alpha1.ReasonInvalidSelector, string(v1alpha1.CheckUnknown), func(s *v1alpha1.HealthCheckAssignmentSpec) {
			// Admission checks the operators; a label value is checked when the selector compiles.
			s.SatelliteSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "not a label value!"}}
		}),
		Entry("SecretNotPermitted", v1alpha1.ReasonSecretNotPermitted, string(v1alpha1.CheckUnknown), func(s *v1alpha1.HealthCheckAssignmentSpec) {
			// A missing Secret is one without consent: the manager reads no other.
			s.Check = v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, HTTP: &v1alpha1.HTTPCheck{URL: "https://payments.example.com/",
				Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: &v1alpha1.HeaderValueSource{
					SecretKeyRef: v1alpha1.SecretKeySelector{Name: "missing", Key: "bearer"}}}}}}
		}),
		Entry("SecretUnavailable", v1alpha1.ReasonSecretUnavailable, string(v1alpha1.CheckUnknown), func(s *v1alpha1.HealthCheckAssignmentSpec) {
			// A Secret that consents to checks but lacks the key.
			Expect(k8sClient.Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keyless", Labels: map[string]string{v1alpha1.LabelCheckSecret: "true"}},
				Data:       map[string][]byte{"other": []byte("x")},
			})).To(Succeed())
			s.Check = v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, HTTP: &v1alpha1.HTTPCheck{URL: "https://payments.example.com/",
				Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: &v1alpha1.HeaderValueSource{
					SecretKeyRef: v1alpha1.SecretKeySelector{Name: "keyless", Key: "bearer"}}}}}}
		}),
		Entry("NoSatellitesSelected", v1alpha1.ReasonNoSatellitesSelected, string(v1alpha1.CheckUnknown), func(s *v1alpha1.HealthCheckAssignmentSpec) {
			s.Satellites = []string{"nobody"}
		}),
		Entry("SatellitesOffline", v1alpha1.ReasonSatellitesOffline, string(v1alpha1.CheckUnknown), func(*v1alpha1.HealthCheckAssignmentSpec) {}),
	)

	It("prints 0 for counts, and Relayed once a satellite is Online", func() {
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eu-west"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1"},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		Expect(k8sClient.Create(ctx, newHCA("counts", func(*v1alpha1.HealthCheckAssignmentSpec) {}))).To(Succeed())
		Eventually(printed("counts")).Should(And(HaveKeyWithValue("Satellites", "1"), HaveKeyWithValue("Reporting", "0")))
		authenticateSatellite(ctx, sat)
		Eventually(printed("counts")).Should(And(HaveKeyWithValue("Ready", "True"), HaveKeyWithValue("Reason", v1alpha1.ReasonRelayed),
			HaveKeyWithValue("Reporting", "1")))
	})

	It("turns Unknown with SatellitesOffline, not Unhealthy, when every selected satellite goes Offline", func() {
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eu-west"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", OfflineThresholdSeconds: ptr.To[int32](5)},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		// Created once the satellite is Online, so that going Offline is its only edge.
		h := authenticateSatellite(ctx, sat)
		hca := newHCA("offline", func(*v1alpha1.HealthCheckAssignmentSpec) {})
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		Eventually(printed("offline")).Should(HaveKeyWithValue("Reason", v1alpha1.ReasonRelayed))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
		Expect(fleetState.Ingest(h, &protocol.Result{ConfigID: string(hca.UID), SystemID: hca.Spec.System, Status: v1alpha1.ResultHealthy, ExecutedAt: time.Now()})).To(Equal("healthy"))
		Eventually(printed("offline")).Should(HaveKeyWithValue("State", string(v1alpha1.CheckHealthy)))

		By("no more heartbeats: the satellite goes Offline after its 5 s threshold")
		Eventually(printed("offline")).Should(And(HaveKeyWithValue("State", string(v1alpha1.CheckUnknown)),
			HaveKeyWithValue("Reason", v1alpha1.ReasonSatellitesOffline), HaveKeyWithValue("Reporting", "0")))
		Eventually(events("offline", v1alpha1.ReasonSatellitesOffline)).Should(Equal(1))
		Consistently(events("offline", v1alpha1.EventCheckUnhealthy)).Should(BeZero())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
		Expect(hca.Status.Summary).To(HaveField("Offline", BeEquivalentTo(1)))
		Expect(hca.Status.Satellites).To(ConsistOf(And(HaveField("Name", "eu-west"), HaveField("Offline", true))))
	})
})

// authenticateSatellite authenticates with the satellite's generated token, as its agent would, and
// waits until the Satellite is Online.
func authenticateSatellite(ctx context.Context, sat *v1alpha1.Satellite) fleet.Handle {
	GinkgoHelper()
	return authenticateTo(ctx, k8sClient, fleetState, sat)
}

// authenticateTo is authenticateSatellite for the manager with client c and fleet f: the suite's
// or a spec's own.
func authenticateTo(ctx context.Context, c client.Client, f *fleet.Fleet, sat *v1alpha1.Satellite) (h fleet.Handle) {
	GinkgoHelper()
	secret := &corev1.Secret{}
	Eventually(func() error {
		return c.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: sat.Name + "-token"}, secret)
	}).Should(Succeed())
	Eventually(func() bool {
		var err error
		h, _, err = f.Authenticate(string(sat.UID), string(secret.Data[v1alpha1.SecretKeyToken]), []string{protocol.CapabilityCheckConfig}, sessionStub{})
		return err == nil
	}).Should(BeTrue())
	Eventually(func() v1alpha1.SatelliteState {
		got := &v1alpha1.Satellite{}
		Expect(c.Get(ctx, client.ObjectKeyFromObject(sat), got)).To(Succeed())
		return got.Status.State
	}).Should(Equal(v1alpha1.SatelliteOnline))
	return h
}
