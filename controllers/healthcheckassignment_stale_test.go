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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/operator"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("A satellite's view of an assignment", func() {
	// staleAge is internal/fleet's for the default interval of 30 s: three intervals, at least
	// 2 minutes. heartbeatEvery is how often agents heartbeat.
	const (
		staleAge       = 2 * time.Minute
		heartbeatEvery = 15 * time.Second
	)

	It("turns stale after the stale age without a result, by the manager's clock, and stops counting towards the quorum", func() {
		ctx := context.Background()

		// The stale age is too long to wait for, so this spec runs a manager on a fake clock that
		// it steps. The suite's manager watches every namespace of the suite's control plane: it
		// would reconcile these Satellites and this assignment too, with a fleet in which the
		// satellites never connected, and overwrite their status. So this manager gets a control
		// plane of its own.
		clk := clocktesting.NewFakeClock(time.Now())
		own, err := controlplane.StartOperator(operator.Config{Clock: clk, DisconnectGrace: disconnectGrace, StatusReportInterval: time.Minute})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { Expect(own.Stop()).To(Succeed()) })
		c, f := own.Client, own.Operator.Fleet
		ns := testutil.NewNamespace(ctx, c)

		By("two Online satellites that heartbeat as agents do")
		handles := map[string]fleet.Handle{}
		for _, name := range []string{"eu-west", "us-east"} {
			sat := &v1alpha1.Satellite{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec:       v1alpha1.SatelliteSpec{Region: name + "-1"},
			}
			Expect(c.Create(ctx, sat)).To(Succeed())
			handles[name] = authenticateTo(ctx, c, f, sat)
		}
		// advance steps the manager's clock by d, and every satellite heartbeats each 15 s of it:
		// the satellites stay Online (their threshold is 45 s), only their results stop.
		advance := func(d time.Duration) {
			for d > 0 {
				step := min(d, heartbeatEvery)
				clk.Step(step)
				for _, h := range handles {
					f.Heartbeat(h, "0.1.0", nil)
				}
				d -= step
			}
		}
		states := func() []v1alpha1.SatelliteState {
			list := &v1alpha1.SatelliteList{}
			Expect(c.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			var out []v1alpha1.SatelliteState
			for _, s := range list.Items {
				out = append(out, s.Status.State)
			}
			return out
		}

		hca := &v1alpha1.HealthCheckAssignment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payments-db"},
			Spec: v1alpha1.HealthCheckAssignmentSpec{
				System:     "payments-api",
				Check:      v1alpha1.CheckSpec{Type: v1alpha1.CheckTCP, TCP: &v1alpha1.TCPCheck{Host: "db.example.com", Port: 5432}},
				Satellites: []string{"eu-west", "us-east"},
			},
		}
		Expect(c.Create(ctx, hca)).To(Succeed())
		Expect(hca.Spec.Check.Interval.Duration).To(Equal(30*time.Second), "the stale age above is the default interval's")
		status := func() v1alpha1.HealthCheckAssignmentStatus {
			got := &v1alpha1.HealthCheckAssignment{}
			Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), got)).To(Succeed())
			return got.Status
		}
		report := func(sat string, s v1alpha1.ResultStatus) {
			GinkgoHelper()
			Expect(f.Ingest(handles[sat], &protocol.Result{ConfigID: string(hca.UID), SystemID: hca.Spec.System, Status: s,
				Result: &protocol.ResultDetail{Status: s, Message: "db.example.com:5432 " + string(s)}, ExecutedAt: clk.Now()})).To(Equal(string(s)))
		}
		// gauge reads the one series of a metric with these labels and the assignment's.
		gauge := func(name, key, value string) float64 {
			GinkgoHelper()
			series, err := controlplane.Metrics(name, map[string]string{"namespace": ns, "assignment": hca.Name, key: value})
			Expect(err).NotTo(HaveOccurred())
			Expect(series).To(HaveLen(1))
			return series[0].GetGauge().GetValue()
		}
		Eventually(status).Should(And(HaveField("SelectedSatellites", BeEquivalentTo(2)), HaveField("ReportingSatellites", BeEquivalentTo(2))))

		By("eu-west sees the check unhealthy: with the default quorum of 1 the assignment is Unhealthy")
		report("eu-west", v1alpha1.ResultUnhealthy)
		Eventually(status).Should(And(HaveField("State", v1alpha1.CheckUnhealthy),
			HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Unhealthy: 1, Unknown: 1})))))

		By("1 s before eu-west's view turns stale, us-east sees the check healthy")
		advance(staleAge - time.Second)
		report("us-east", v1alpha1.ResultHealthy)
		// The reconcile this result wakes asks to look again in 1 s, when eu-west's view turns
		// stale; real time passing does not make it stale, the manager's clock does.
		Eventually(status).Should(HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Healthy: 1, Unhealthy: 1}))))
		Consistently(status).Should(And(HaveField("State", v1alpha1.CheckUnhealthy), HaveField("Summary", HaveValue(HaveField("Stale", BeZero())))))

		By("eu-west's view is stale after 2 minutes without a result: the reconciler's own requeue, with no edit and no result, marks it")
		advance(time.Second)
		Eventually(status).Should(HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Healthy: 1, Stale: 1}))))
		st := status()
		// Its unhealthy view no longer counts: us-east, the one satellite that reports, decides.
		Expect(st.State).To(Equal(v1alpha1.CheckHealthy))
		Expect(st.SelectedSatellites).To(BeEquivalentTo(2))
		Expect(st.ReportingSatellites).To(BeEquivalentTo(1))
		Expect(st.Satellites).To(ConsistOf(And(HaveField("Name", "eu-west"), HaveField("Status", v1alpha1.ResultUnhealthy),
			HaveField("Stale", true), HaveField("Offline", false))))
		ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
		Expect(ready).NotTo(BeNil())
		Expect(ready.Reason).To(Equal(v1alpha1.ReasonRelayed))
		Expect(ready.Message).To(ContainSubstring("1 of 2 do not report (0 Offline, 1 stale), and the quorum counts the 1 that do"))
		Expect(gauge("satellite_check_stale", "satellite", "eu-west")).To(Equal(1.0))
		Expect(gauge("satellite_check_stale", "satellite", "us-east")).To(Equal(0.0))
		Expect(states()).To(HaveEach(v1alpha1.SatelliteOnline))

		By("us-east's view turns stale too: no satellite reports, and the assignment is Unknown")
		advance(staleAge - time.Second)
		// The reconciler asked to look again at us-east's stale age, but controller-runtime's
		// workqueue waits by the real clock, not the injected one: that look would come almost 2
		// real minutes later. An edit of the assignment's metadata, an update event like any other,
		// makes it look now, at the stepped clock.
		nudge := client.MergeFrom(hca.DeepCopy())
		hca.Annotations = map[string]string{"test.satellite.checkstack.io/nudge": "stale"}
		Expect(c.Patch(ctx, hca, nudge)).To(Succeed())
		Eventually(status).Should(HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Stale: 2}))))
		st = status()
		// Counts.State: Unknown while no satellite reports; stale views never make it Unhealthy.
		Expect(st.State).To(Equal(v1alpha1.CheckUnknown))
		Expect(st.ReportingSatellites).To(BeZero())
		Expect(st.Satellites).To(ConsistOf(
			And(HaveField("Name", "eu-west"), HaveField("Status", v1alpha1.ResultUnhealthy), HaveField("Stale", true), HaveField("Offline", false)),
			And(HaveField("Name", "us-east"), HaveField("Status", v1alpha1.ResultHealthy), HaveField("Stale", true), HaveField("Offline", false))))
		Expect(gauge("satellite_check_stale", "satellite", "us-east")).To(Equal(1.0))
		Expect(gauge("satellite_assignment_state", "state", string(v1alpha1.CheckUnknown))).To(Equal(1.0))
		Expect(states()).To(HaveEach(v1alpha1.SatelliteOnline))
	})
})
