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

package operator_test

import (
	"context"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/presence"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("Every replica", func() {
	ctx := context.Background()

	It("serves satellites: the leader judges one that the other replica serves, and counts its results", func() {
		c := running.Client
		lead, follower := leader()
		Eventually(func() error { return follower.op.Hub.ReadyCheck(nil) }).Should(Succeed(), "a replica that does not lead is Ready")
		ns := testutil.NewNamespace(ctx, c)
		sat, hca := satelliteWithAssignment(ctx, ns)
		Eventually(follower.op.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue(),
			"the replica that does not lead knows the satellite's token")

		agent := dialAgent(follower.hubAddr, sat)
		defer agent.close()
		Eventually(func() v1alpha1.SatelliteState { return sat.Get(ctx, c).Status.State }).Should(Equal(v1alpha1.SatelliteOnline))
		Expect(presenceLease(ctx, Default, sat).Spec.HolderIdentity).To(HaveValue(Equal(follower.op.Identity)))

		agent.send(&protocol.Result{ID: "on-the-follower", ConfigID: string(hca.UID), SystemID: "payments-api",
			Status: v1alpha1.ResultUnhealthy, LatencyMs: ptr.To(21.0), ExecutedAt: time.Now()})
		Eventually(agent.acked).WithArguments("on-the-follower").Should(BeTrue())
		Eventually(func() v1alpha1.CheckState {
			Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckUnhealthy), "the follower's result reached the leader's status")
		Expect(hca.Status.Satellites).To(ConsistOf(HaveField("Name", "eu-west")))
		Expect(lead.op.Elector.Leading()).To(BeTrue())
		Expect(agent.ended()).To(BeFalse())
	})

	It("acknowledge a result of an agent that asks for written acks only once its view is in the Lease", func() {
		_, follower := leader()
		ns := testutil.NewNamespace(ctx, running.Client)
		sat, hca := satelliteWithAssignment(ctx, ns)
		Eventually(follower.op.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue())
		agent, code := dialOrRefused(follower.hubAddr, sat, protocol.CapabilityWrittenAcks)
		Expect(agent).NotTo(BeNil(), "refused with %d", code)
		defer agent.close()
		lastRun := func() time.Time {
			for _, v := range presence.Views(presenceLease(ctx, Default, sat)) {
				if v.Assignment == hca.UID {
					return v.LastRunAt
				}
			}
			return time.Time{}
		}
		// The first result makes the view, which is written at once; the second changes no status
		// and waits for the renewal. Either is acknowledged only once the Lease holds it.
		for _, id := range []string{"makes-the-view", "changes-nothing"} {
			executedAt := time.Now().UTC().Truncate(time.Millisecond)
			agent.send(&protocol.Result{ID: id, ConfigID: string(hca.UID), SystemID: "payments-api",
				Status: v1alpha1.ResultHealthy, LatencyMs: ptr.To(12.0), ExecutedAt: executedAt})
			Eventually(agent.acked).WithArguments(id).Should(BeTrue())
			Expect(lastRun()).To(BeTemporally("==", executedAt), "%s was acknowledged before its view was written", id)
		}
		Expect(agent.ended()).To(BeFalse())
	})

	It("move a satellite between them with one session at a time, no Event, and a resent result taken once", func() {
		c := running.Client
		lead, follower := leader()
		ns := testutil.NewNamespace(ctx, c)
		sat, hca := satelliteWithAssignment(ctx, ns)
		Eventually(follower.op.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue())

		first := dialAgent(follower.hubAddr, sat)
		defer first.close()
		Eventually(func() v1alpha1.SatelliteState { return sat.Get(ctx, c).Status.State }).Should(Equal(v1alpha1.SatelliteOnline))
		result := &protocol.Result{ID: "before-the-move", ConfigID: string(hca.UID), SystemID: "payments-api",
			Status: v1alpha1.ResultDegraded, LatencyMs: ptr.To(40.0), ExecutedAt: time.Now()}
		first.send(result)
		Eventually(first.acked).WithArguments("before-the-move").Should(BeTrue())
		// The view reaches the Lease, where the next replica finds it.
		Eventually(func(g Gomega) []string {
			var ids []string
			for _, v := range presence.Views(presenceLease(ctx, g, sat)) {
				ids = append(ids, string(v.Assignment))
			}
			return ids
		}).Should(ConsistOf(string(hca.UID)))

		By("dialling the leader as the satellite does after a lost connection")
		duplicatesBefore := resultsTotal(fleet.ResultDuplicate)
		second := dialAgent(lead.hubAddr, sat)
		defer second.close()
		Eventually(first.ended).Should(BeTrue(), "the older session, on the other replica, was closed")
		Expect(first.closeCode()).To(Equal(protocol.CloseReplaced))
		Expect(first.shutdownReason()).To(Equal(protocol.ShutdownReplaced))
		Eventually(func(g Gomega) *string { return presenceLease(ctx, g, sat).Spec.HolderIdentity }).Should(HaveValue(Equal(lead.op.Identity)))

		second.send(result) // the agent resends what it holds no ack for
		Eventually(second.acked).WithArguments("before-the-move").Should(BeTrue())
		Expect(resultsTotal(fleet.ResultDuplicate)-duplicatesBefore).To(BeEquivalentTo(1), "the resent result was dropped as taken")
		Eventually(func() v1alpha1.CheckState {
			Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckDegraded))

		Expect(second.ended()).To(BeFalse())
		Expect(sat.Get(ctx, c).Status.State).To(Equal(v1alpha1.SatelliteOnline))
		Expect(eventReasons(ctx, ns, sat.Obj.Name)).To(ConsistOf(v1alpha1.EventTokenGenerated, v1alpha1.EventSatelliteOnline),
			"a satellite that moved between replicas never went away")
	})

	It("hold agents that share an identity down across replicas: the incumbent is kept, newcomers get 4009, one Event", func() {
		c := running.Client
		lead, follower := leader()
		ns := testutil.NewNamespace(ctx, c)
		sat, _ := satelliteWithAssignment(ctx, ns)
		Eventually(follower.op.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue())
		hubs := []string{lead.hubAddr, follower.hubAddr}

		By("two agents that reach different replicas and dial again after every close")
		var incumbent *agentConn
		var kept, replaced string
		replacements := 0
		for attempt := 0; ; attempt++ {
			Expect(attempt).To(BeNumerically("<=", fleet.DuplicateReplacements+2), "no hold-down after %d replacements", replacements)
			next, code := dialOrRefused(hubs[attempt%2], sat)
			if next == nil {
				Expect(code).To(Equal(protocol.CloseDuplicate))
				break
			}
			if incumbent != nil {
				// The replica it was on closes it when it sees the Lease taken, and has then merged
				// the replacements the Lease records: the next dial goes to it.
				Eventually(incumbent.ended).Should(BeTrue())
				Expect(incumbent.closeCode()).To(Equal(protocol.CloseReplaced))
				replaced = incumbent.ws.LocalAddr().String()
				replacements++
			}
			incumbent, kept = next, next.ws.LocalAddr().String()
		}
		defer incumbent.close()
		// The first replacement may come before the other replica saw the first session's Lease.
		Expect(replacements).To(BeNumerically(">=", fleet.DuplicateReplacements))

		for _, hub := range hubs {
			_, code := dialOrRefused(hub, sat)
			Expect(code).To(Equal(protocol.CloseDuplicate), "a newcomer on %s is refused", hub)
		}
		duplicateEvents := func() []string { return eventNotes(ctx, ns, sat.Obj.Name, v1alpha1.EventDuplicateSatellite) }
		Eventually(duplicateEvents).Should(HaveLen(1))
		Consistently(duplicateEvents).WithTimeout(2 * time.Second).Should(HaveLen(1))
		Expect(duplicateEvents()[0]).To(And(ContainSubstring(kept), ContainSubstring(replaced)))
		Expect(incumbent.ended()).To(BeFalse(), "the incumbent was kept")
		Expect(sat.Get(ctx, c).Status.State).To(Equal(v1alpha1.SatelliteOnline))
	})

	It("report the same close three times in a row from the replica that does not lead", func() {
		c := running.Client
		_, follower := leader()
		ns := testutil.NewNamespace(ctx, c)
		sat, _ := satelliteWithAssignment(ctx, ns)
		Eventually(follower.op.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue())
		for range fleet.RepeatedCloseThreshold {
			agent := dialAgent(follower.hubAddr, sat)
			agent.wmu.Lock()
			_ = agent.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"heartbeat","version":"`+strings.Repeat("x", 1<<20)+`"}`))
			agent.wmu.Unlock()
			Eventually(agent.ended).Should(BeTrue())
			Expect(agent.closeCode()).To(Equal(websocket.CloseMessageTooBig))
		}
		repeated := func() []string { return eventNotes(ctx, ns, sat.Obj.Name, v1alpha1.EventRepeatedClose) }
		Eventually(repeated).Should(ConsistOf(ContainSubstring("3 times in a row with code 1009")))
		Consistently(repeated).WithTimeout(2 * time.Second).Should(HaveLen(1))
	})

	It("write, when one shuts down, that it released its sessions, and the leader keeps the satellite Online", func() {
		c := running.Client
		ns := testutil.NewNamespace(ctx, c)
		sat, _ := satelliteWithAssignment(ctx, ns)
		third, err := running.StartReplica(cfg)
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = third.Stop() }()
		Eventually(third.Operator.Fleet.Verify).WithArguments(sat.ClientID, sat.Token).Should(BeTrue())
		agent := dialAgent(third.HubAddr, sat)
		defer agent.close()
		// The writer creates the Lease soon after the session begins, not before dialAgent returns.
		presenceOf := func(g Gomega) string { return presenceLease(ctx, g, sat).Annotations[v1alpha1.AnnotationPresence] }
		Eventually(presenceOf).Should(Equal(v1alpha1.PresenceConnected))

		Expect(third.Stop()).To(Succeed())
		Eventually(agent.ended).Should(BeTrue())
		Expect(agent.closeCode()).To(Equal(websocket.CloseGoingAway))
		// Written before the manager stopped, not eventually.
		Expect(presenceOf(Default)).To(Equal(v1alpha1.PresenceReleased))
		Expect(presenceLease(ctx, Default, sat).Spec.HolderIdentity).To(HaveValue(Equal(third.Operator.Identity)))
		// The satellite has the Lease's duration to come back; it does, to another replica.
		Consistently(func() v1alpha1.SatelliteState { return sat.Get(ctx, c).Status.State }).WithTimeout(3 * time.Second).
			Should(Equal(v1alpha1.SatelliteOnline))
		back := dialAgent(replicas[0].hubAddr, sat)
		defer back.close()
		Eventually(presenceOf).Should(Equal(v1alpha1.PresenceConnected))
		Expect(eventReasons(ctx, ns, sat.Obj.Name)).NotTo(ContainElement(v1alpha1.EventSatelliteOffline))
	})
})

// presenceLease reads the satellite's presence Lease. Inside Eventually, pass its Gomega: the Lease
// may not have been written yet.
func presenceLease(ctx context.Context, g Gomega, sat *testutil.Satellite) *coordinationv1.Lease {
	GinkgoHelper()
	lease := &coordinationv1.Lease{}
	g.Expect(running.Client.Get(ctx, presence.LeaseKey(client.ObjectKeyFromObject(sat.Obj)), lease)).To(Succeed())
	return lease
}

// resultsTotal reads satellite_results_total{status} of this process, which both managers share.
func resultsTotal(status string) float64 {
	GinkgoHelper()
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "satellite_results_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == status {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
