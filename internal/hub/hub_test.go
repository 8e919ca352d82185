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
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

var _ = Describe("Hub", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	eventCount := func(obj client.Object, reason string) func() int {
		return func() int { return countEvents(ctx, obj, reason) }
	}
	state := func(s *satellite) func() v1alpha1.SatelliteState { return satelliteState(ctx, s) }

	It("marks an authenticated satellite Online, and Offline when its heartbeats stop", func() {
		sat := createSatellite(ctx, ns, "eu-west", "eu-west-1", nil)
		c, auth := connect(sat)
		defer c.close()
		Expect(auth.SatelliteID).To(Equal(sat.ClientID))
		Expect(auth.HeartbeatIntervalSeconds).To(Equal(1))
		Expect(auth.Assignments).To(BeEmpty())

		// Taken before the send, so that the manager cannot have seen the heartbeat earlier.
		lastHeartbeat := time.Now()
		c.send(&protocol.Heartbeat{Version: "0.3.1", UptimeSeconds: 1})
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		Eventually(func() string { return getSatellite(ctx, sat).Status.Version }).Should(Equal("0.3.1"))
		Eventually(eventCount(sat.Obj, v1alpha1.EventSatelliteOnline)).Should(Equal(1))

		// The connection stays open but silent: Offline once the threshold (5 s) has passed, not
		// before. How soon after it depends on the machine, so the upper bound is wide.
		Eventually(state(sat)).WithTimeout(30 * time.Second).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(time.Since(lastHeartbeat)).To(BeNumerically(">=", 4*time.Second))
		Eventually(eventCount(sat.Obj, v1alpha1.EventSatelliteOffline)).Should(Equal(1))
		Expect(eventCount(sat.Obj, v1alpha1.EventSatelliteOnline)()).To(Equal(1))
	})

	It("accepts the token as a bearer token on the upgrade", func() {
		sat := createSatellite(ctx, ns, "bearer", "eu-west-1", nil)
		c := dial(http.Header{"Authorization": {"Bearer " + sat.Token}})
		defer c.close()
		auth, ok := c.next().(*protocol.Authenticated)
		Expect(ok).To(BeTrue())
		Expect(auth.SatelliteID).To(Equal(sat.ClientID))
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
	})

	It("pushes config only to the sessions whose assignments changed", func() {
		a := createSatellite(ctx, ns, "a", "eu-west-1", map[string]string{"tier": "edge"})
		b := createSatellite(ctx, ns, "b", "us-east-1", nil)
		ca, _ := connect(a)
		defer ca.close()
		ca.heartbeats(500 * time.Millisecond)
		cb, _ := connect(b)
		defer cb.close()

		By("creating an assignment that selects a by name")
		hca := httpAssignment(ns, "by-name", "https://payments.example.com/healthz")
		hca.Spec.Satellites = []string{"a"}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		upd, ok := ca.next().(*protocol.ConfigUpdated)
		Expect(ok).To(BeTrue())
		Expect(configIDs(upd.Assignments)).To(Equal([]string{string(hca.UID)}))
		Expect(upd.Assignments[0].SystemID).To(Equal("payments-api"))
		Expect(upd.Assignments[0].StrategyID).To(Equal("http"))
		Expect(upd.Assignments[0].IntervalSeconds).To(Equal(30))
		Expect(decodeConfig(upd.Assignments[0]).HTTP.URL).To(Equal("https://payments.example.com/healthz"))
		// The count rides along with the next scheduled write (lastHeartbeatAt, every report
		// interval while a heartbeats), never in a write of its own.
		Eventually(func() int32 { return getSatellite(ctx, a).Status.Assignments }).Should(BeEquivalentTo(1))

		By("updating it")
		// The manager writes the status meanwhile: a stale read is read again, as kubectl edit does.
		Eventually(func() error {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			hca.Spec.Check.Interval = &metav1.Duration{Duration: 15 * time.Second}
			return k8sClient.Update(ctx, hca)
		}).Should(Succeed())
		upd = ca.next().(*protocol.ConfigUpdated)
		Expect(upd.Assignments).To(HaveLen(1))
		Expect(upd.Assignments[0].IntervalSeconds).To(Equal(15))

		By("selecting by label a satellite whose labels then change")
		bySelector := httpAssignment(ns, "by-selector", "https://orders.example.com/")
		bySelector.Spec.SatelliteSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "edge"}}
		Expect(k8sClient.Create(ctx, bySelector)).To(Succeed())
		upd = ca.next().(*protocol.ConfigUpdated)
		Expect(upd.Assignments).To(HaveLen(2))
		patch := client.MergeFrom(getSatellite(ctx, b))
		labelled := getSatellite(ctx, b)
		labelled.Labels = map[string]string{"tier": "edge"}
		Expect(k8sClient.Patch(ctx, labelled, patch)).To(Succeed())
		upd = cb.next().(*protocol.ConfigUpdated)
		Expect(configIDs(upd.Assignments)).To(Equal([]string{string(bySelector.UID)}))

		By("selecting by region")
		byRegion := httpAssignment(ns, "by-region", "https://eu.example.com/")
		byRegion.Spec.Regions = []string{"us-east-1"}
		Expect(k8sClient.Create(ctx, byRegion)).To(Succeed())
		upd = cb.next().(*protocol.ConfigUpdated)
		Expect(upd.Assignments).To(HaveLen(2))

		By("deleting the first assignment")
		Expect(k8sClient.Delete(ctx, hca)).To(Succeed())
		upd = ca.next().(*protocol.ConfigUpdated)
		Expect(configIDs(upd.Assignments)).To(Equal([]string{string(bySelector.UID)}))

		// b ran neither the deleted assignment nor anything a saw change.
		cb.quiet()
	})

	It("survives a burst of assignment changes, ending on the full list", func() {
		const burst = 200
		sat := createSatellite(ctx, ns, "busy", "eu-west-1", nil)
		c, _ := connect(sat)
		defer c.close()
		for i := range burst {
			hca := httpAssignment(ns, fmt.Sprintf("bulk-%03d", i), "https://payments.example.com/healthz")
			hca.Spec.Satellites = []string{"busy"}
			Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		}
		// Each config_updated replaces the whole list; the hub may coalesce them, never drop the last.
		frames := 0
		for {
			upd, ok := c.next().(*protocol.ConfigUpdated)
			Expect(ok).To(BeTrue())
			frames++
			if len(upd.Assignments) == burst {
				break
			}
		}
		GinkgoWriter.Printf("%d assignments created, %d config_updated frames\n", burst, frames)
		Expect(frames).To(BeNumerically("<=", burst))
		c.alive()
	})

	It("sends an agent that takes patches what changed, ending on the full list", func() {
		const burst = 50
		sat := createSatellite(ctx, ns, "patched", "eu-west-1", nil)
		c, auth := connectWith(sat, protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch)
		defer c.close()
		c.heartbeats(500 * time.Millisecond)
		list := auth.Assignments
		// apply takes the next frame as the agent does, and returns its type.
		apply := func() protocol.Type {
			frame := c.next()
			switch m := frame.(type) {
			case *protocol.ConfigUpdated:
				list = m.Assignments
			case *protocol.ConfigPatch:
				list = m.Apply(list)
			default:
				Fail(fmt.Sprintf("a %s where a list was awaited", m.MessageType()))
			}
			return frame.MessageType()
		}
		var created []string
		for i := range burst {
			hca := httpAssignment(ns, fmt.Sprintf("patched-%03d", i), "https://payments.example.com/healthz")
			hca.Spec.Satellites = []string{"patched"}
			Expect(k8sClient.Create(ctx, hca)).To(Succeed())
			created = append(created, string(hca.UID))
		}
		slices.Sort(created)
		patches := 0
		for len(list) < burst {
			if apply() == protocol.TypeConfigPatch {
				patches++
			}
		}
		Expect(configIDs(list)).To(Equal(created))
		Expect(patches).To(BeNumerically(">=", 1), "the session holds a list from authenticated on, so every change is a patch")

		By("deleting one: a patch that removes it alone")
		gone := &v1alpha1.HealthCheckAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "patched-007"}, gone)).To(Succeed())
		Expect(k8sClient.Delete(ctx, gone)).To(Succeed())
		p, ok := c.next().(*protocol.ConfigPatch)
		Expect(ok).To(BeTrue())
		Expect(p.Removed).To(Equal([]string{string(gone.UID)}))
		Expect(p.Assignments).To(BeEmpty())
		list = p.Apply(list)
		Expect(configIDs(list)).To(Equal(slices.DeleteFunc(created, func(id string) bool { return id == string(gone.UID) })))
		c.alive()
	})

	It("ingests results into metrics and the assignment's status, acks them and drops duplicates", func() {
		sat := createSatellite(ctx, ns, "reporter", "eu-west-1", nil)
		c, _ := connect(sat)
		defer c.close()
		// An Offline satellite does not report: it stays Online however long the spec takes.
		c.heartbeats(500 * time.Millisecond)
		hca := httpAssignment(ns, "checked", "https://payments.example.com/healthz")
		hca.Spec.Satellites = []string{"reporter"}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		Expect(c.next()).To(BeAssignableToTypeOf(&protocol.ConfigUpdated{}))

		healthyBefore := resultsTotal("healthy")
		duplicateBefore := resultsTotal("duplicate")
		latency := 42.0
		result := &protocol.Result{ID: "r-1", ConfigID: string(hca.UID), SystemID: "payments-api", Status: v1alpha1.ResultHealthy,
			LatencyMs: &latency, Result: &protocol.ResultDetail{Status: v1alpha1.ResultHealthy, LatencyMs: latency, Message: "200 OK"},
			ExecutedAt: time.Now()}
		c.send(result)
		Expect(c.next()).To(Equal(&protocol.ResultAck{IDs: []string{"r-1"}}))

		Eventually(func() v1alpha1.CheckState {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckHealthy))
		Expect(hca.Status.SelectedSatellites).To(BeEquivalentTo(1))
		// A healthy satellite is counted; only those that do not see the check healthy are listed.
		Expect(hca.Status.Summary).To(HaveValue(Equal(v1alpha1.CheckSummary{Healthy: 1})))
		Expect(hca.Status.Regions).To(Equal([]v1alpha1.RegionCheckSummary{{Region: "eu-west-1", CheckSummary: v1alpha1.CheckSummary{Healthy: 1}}}))
		Expect(hca.Status.Satellites).To(BeEmpty())
		Expect(checkLatencySum(ns, "checked", "reporter")).To(BeNumerically("~", 0.042, 0.0005))
		Expect(meta.IsStatusConditionTrue(hca.Status.Conditions, v1alpha1.ConditionReady)).To(BeTrue())
		Expect(resultsTotal("healthy") - healthyBefore).To(BeEquivalentTo(1))
		Expect(checkUp(ns, "checked", "reporter")).To(BeEquivalentTo(1))

		By("resending the same result, as an agent does after a lost ack")
		c.send(result)
		Expect(c.next()).To(Equal(&protocol.ResultAck{IDs: []string{"r-1"}}))
		Expect(resultsTotal("duplicate") - duplicateBefore).To(BeEquivalentTo(1))
		Expect(resultsTotal("healthy") - healthyBefore).To(BeEquivalentTo(1))

		By("failing: one satellite is the whole quorum, so the check is Unhealthy, with an Event")
		c.send(&protocol.Result{ID: "r-2", ConfigID: string(hca.UID), SystemID: "payments-api", Status: v1alpha1.ResultUnhealthy,
			Result: &protocol.ResultDetail{Status: v1alpha1.ResultUnhealthy, Message: "status 503"}, ExecutedAt: time.Now()})
		Expect(c.next()).To(Equal(&protocol.ResultAck{IDs: []string{"r-2"}}))
		Eventually(func() v1alpha1.CheckState {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckUnhealthy))
		Eventually(eventCount(hca, v1alpha1.EventCheckUnhealthy)).Should(Equal(1))
		Expect(checkUp(ns, "checked", "reporter")).To(BeEquivalentTo(0))
		Expect(hca.Status.Summary).To(HaveValue(Equal(v1alpha1.CheckSummary{Unhealthy: 1})))
		Expect(hca.Status.Satellites).To(ConsistOf(And(
			HaveField("Name", "reporter"), HaveField("Region", "eu-west-1"), HaveField("Status", v1alpha1.ResultUnhealthy),
			HaveField("Message", "status 503"))))
	})

	It("closes the session within 1 s when the token rotates or the Satellite is deleted", func() {
		sat := createSatellite(ctx, ns, "rotated", "eu-west-1", nil)
		c, _ := connect(sat)
		patch := client.MergeFrom(getSatellite(ctx, sat))
		annotated := getSatellite(ctx, sat)
		annotated.Annotations = map[string]string{v1alpha1.AnnotationRotateToken: "now"}
		Expect(k8sClient.Patch(ctx, annotated, patch)).To(Succeed())
		code, frames := c.closed(time.Second)
		Expect(code).To(Equal(protocol.CloseAuthFailed))
		Expect(frames).To(ContainElement(&protocol.Shutdown{Reason: protocol.ShutdownTokenRotate}))

		By("the old token no longer works, the new one does")
		old := *sat
		Eventually(func() string { return getToken(ctx, ns, "rotated") }).ShouldNot(Equal(old.Token))
		stale := dial(nil)
		stale.send(&protocol.Authenticate{ClientID: old.ClientID, Token: old.Token})
		code, _ = stale.closed(5 * time.Second)
		Expect(code).To(Equal(protocol.CloseAuthFailed))
		sat.Token = getToken(ctx, ns, "rotated")
		c, _ = connect(sat)

		Expect(k8sClient.Delete(ctx, sat.Obj)).To(Succeed())
		code, frames = c.closed(time.Second)
		Expect(code).To(Equal(protocol.CloseDeleted))
		Expect(frames).To(ContainElement(&protocol.Shutdown{Reason: protocol.ShutdownDeleted}))
	})

	It("replaces an older connection of the same satellite with a newer one", func() {
		sat := createSatellite(ctx, ns, "twice", "eu-west-1", nil)
		first, _ := connect(sat)
		second, _ := connect(sat)
		defer second.close()
		code, frames := first.closed(5 * time.Second)
		Expect(code).To(Equal(protocol.CloseReplaced))
		Expect(frames).To(ContainElement(&protocol.Shutdown{Reason: protocol.ShutdownReplaced}))
		second.alive()
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		// The replaced session's end is not a disconnect of the satellite.
		Consistently(state(sat)).WithTimeout(2 * time.Second).Should(Equal(v1alpha1.SatelliteOnline))
	})

	It("keeps the incumbent of agents that replace each other, and refuses the others with 4009 and one Event", func() {
		sat := createSatellite(ctx, ns, "duplicated", "eu-west-1", nil)
		incumbent, _ := connect(sat)
		var replaced string
		for range fleet.DuplicateReplacements {
			next, _ := connect(sat)
			code, _ := incumbent.closed(5 * time.Second)
			Expect(code).To(Equal(protocol.CloseReplaced))
			replaced, incumbent = incumbent.ws.LocalAddr().String(), next
		}
		defer incumbent.close()
		incumbent.heartbeats(time.Second)

		for range 2 {
			newcomer := dial(nil)
			newcomer.send(&protocol.Authenticate{ClientID: sat.ClientID, Token: sat.Token, Capabilities: []string{protocol.CapabilityCheckConfig}})
			code, frames := newcomer.closed(5 * time.Second)
			Expect(code).To(Equal(protocol.CloseDuplicate))
			Expect(frames).To(Equal([]protocol.Message{&protocol.Shutdown{Reason: protocol.ShutdownDuplicate}}), "nothing but the shutdown: no authenticated, no assignments")
		}
		incumbent.alive()

		duplicateEvents := func() []eventsv1.Event {
			list := &eventsv1.EventList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			var out []eventsv1.Event
			for _, e := range list.Items {
				if e.Regarding.Name == "duplicated" && e.Reason == v1alpha1.EventDuplicateSatellite {
					out = append(out, e)
				}
			}
			return out
		}
		Eventually(duplicateEvents).Should(HaveLen(1))
		Consistently(duplicateEvents).Should(HaveLen(1))
		e := duplicateEvents()[0]
		Expect(e.Type).To(Equal(corev1.EventTypeWarning))
		Expect(e.Series).To(BeNil(), "the second refusal announced nothing")
		Expect(e.Note).To(ContainSubstring(incumbent.ws.LocalAddr().String()))
		Expect(e.Note).To(ContainSubstring(replaced))
		Expect(state(sat)()).To(Equal(v1alpha1.SatelliteOnline))
	})

	DescribeTable("closes one bad connection with its stated code and leaves the others alone",
		func(misbehave func(s *satellite) int, wantCode int) {
			bystanderSat := createSatellite(ctx, ns, "bystander", "eu-west-1", nil)
			bystander, _ := connect(bystanderSat)
			defer bystander.close()
			bystander.heartbeats(time.Second)
			Eventually(state(bystanderSat)).Should(Equal(v1alpha1.SatelliteOnline))
			culprit := createSatellite(ctx, ns, "culprit", "eu-west-1", nil)

			Expect(misbehave(culprit)).To(Equal(wantCode))
			bystander.alive()
			Expect(state(bystanderSat)()).To(Equal(v1alpha1.SatelliteOnline))
			Expect(logs.String()).NotTo(ContainSubstring(culprit.Token))
			Expect(logs.String()).NotTo(ContainSubstring(bystanderSat.Token))
		},
		Entry("a wrong token", func(s *satellite) int {
			c := dial(nil)
			c.send(&protocol.Authenticate{ClientID: s.ClientID, Token: "csat_wrong" + s.Token[10:]})
			code, frames := c.closed(5 * time.Second)
			Expect(frames).To(ContainElement(BeAssignableToTypeOf(&protocol.AuthFailed{})))
			return code
		}, protocol.CloseAuthFailed),
		Entry("an unknown client ID", func(s *satellite) int {
			c := dial(nil)
			c.send(&protocol.Authenticate{ClientID: "00000000-0000-0000-0000-000000000000", Token: s.Token})
			code, _ := c.closed(5 * time.Second)
			return code
		}, protocol.CloseAuthFailed),
		Entry("no authentication before the timeout", func(*satellite) int {
			c := dial(nil)
			code, _ := c.closed(preAuthTimeout + 2*time.Second)
			return code
		}, protocol.CloseAuthTimeout),
		Entry("a first frame that is not authenticate", func(*satellite) int {
			c := dial(nil)
			c.send(&protocol.Heartbeat{Version: "0.1.0"})
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.ClosePolicyViolation),
		Entry("a frame that is not JSON", func(s *satellite) int {
			c, _ := connect(s)
			c.sendRaw([]byte("hello"))
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.ClosePolicyViolation),
		Entry("a frame over 1 MiB", func(s *satellite) int {
			c, _ := connect(s)
			c.sendRaw([]byte(`{"type":"heartbeat","version":"` + strings.Repeat("x", 1<<20) + `"}`))
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.CloseMessageTooBig),
		Entry("a first frame over 64 KiB", func(s *satellite) int {
			c := dial(nil)
			c.sendRaw([]byte(`{"type":"authenticate","clientId":"` + s.ClientID + `","token":"` + strings.Repeat("x", 65<<10) + `"}`))
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.CloseMessageTooBig),
		Entry("an unknown message type before authentication", func(*satellite) int {
			c := dial(nil)
			c.sendRaw([]byte(`{"type":"telemetry_batch","batchId":"1","kind":"logs","payload":{}}`))
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.ClosePolicyViolation),
		Entry("a flood of frames", func(s *satellite) int {
			c, _ := connect(s)
			for range messageBurst * 3 {
				if c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"heartbeat","version":"0.1.0","uptimeSeconds":1}`)) != nil {
					break
				}
			}
			code, _ := c.closed(5 * time.Second)
			return code
		}, websocket.ClosePolicyViolation),
	)

	It("acknowledges but does not ingest a result for an assignment it did not relay", func() {
		sat := createSatellite(ctx, ns, "stray", "eu-west-1", nil)
		other := httpAssignment(ns, "not-for-stray", "https://payments.example.com/")
		other.Spec.Satellites = []string{"someone-else"}
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		c, _ := connect(sat)
		defer c.close()
		rejectedBefore := resultsTotal("rejected")
		c.send(&protocol.Result{ID: "stray-1", ConfigID: string(other.UID), SystemID: "payments-api",
			Status: v1alpha1.ResultUnhealthy, ExecutedAt: time.Now()})
		Expect(c.next()).To(Equal(&protocol.ResultAck{IDs: []string{"stray-1"}}))
		Expect(resultsTotal("rejected") - rejectedBefore).To(BeEquivalentTo(1))
		Consistently(func() []v1alpha1.SatelliteCheckStatus {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(other), other)).To(Succeed())
			return other.Status.Satellites
		}).Should(BeEmpty())
		c.alive()
	})
})
