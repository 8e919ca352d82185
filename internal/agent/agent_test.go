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

package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/agent"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("Agent", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	state := func(s *testutil.Satellite) func() v1alpha1.SatelliteState {
		return func() v1alpha1.SatelliteState { return getSatellite(ctx, s).Status.State }
	}
	checkStatus := func(hca *v1alpha1.HealthCheckAssignment) func() v1alpha1.HealthCheckAssignmentStatus {
		return func() v1alpha1.HealthCheckAssignmentStatus {
			got := &v1alpha1.HealthCheckAssignment{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), got)).To(Succeed())
			return got.Status
		}
	}
	connected := func(a *testAgent) func() bool {
		return func() bool { return a.stats().Connected }
	}

	It("authenticates, runs its assignment and reports into the assignment's status, and closes cleanly", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		web := newTarget()
		hca := httpAssignment(ns, "payments", "eu-west", web.URL, 5*time.Second)
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())

		a := startAgent("eu-west", agent.Config{CoreURL: coreURL(running.HubAddr), ClientID: sat.ClientID, Token: sat.Token, Version: "1.2.3"})
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		Eventually(func() string { return getSatellite(ctx, sat).Status.Version }).Should(Equal("1.2.3"))
		// It advertises that it runs our CheckConfig, so the manager sends it our form, that it
		// applies patches, and, with its default buffer, that it waits for written acks.
		Eventually(func() *v1alpha1.AgentStatus { return getSatellite(ctx, sat).Status.Agent }).Should(Equal(
			&v1alpha1.AgentStatus{Kind: v1alpha1.AgentSatelliteOperator,
				Capabilities: []string{protocol.CapabilityCheckConfig, protocol.CapabilityConfigPatch, protocol.CapabilityWrittenAcks}}))
		code, _ := a.get("/readyz")
		Expect(code).To(Equal(200))

		By("running the check within its 5s interval and reporting the result")
		// A healthy satellite is counted in the status; its detail is in the metrics.
		Eventually(checkStatus(hca)).Should(And(
			HaveField("State", v1alpha1.CheckHealthy),
			HaveField("Summary", HaveValue(Equal(v1alpha1.CheckSummary{Healthy: 1}))),
			HaveField("Satellites", BeEmpty())))
		Expect(ingested(ns, "payments", "eu-west")).To(BeNumerically(">=", 1))
		Expect(web.requests.Load()).To(BeNumerically(">=", 1))
		// Each result is acknowledged once the manager has written it, with the next renewal of
		// the presence Lease: the buffer empties after each, until the next run.
		Eventually(func() int { return a.stats().ResultsBuffered }).Should(BeZero(), "the manager acknowledges every result")

		Eventually(func(g Gomega) string {
			code, body := a.get("/metrics")
			g.Expect(code).To(Equal(200))
			return body
		}).Should(And(
			ContainSubstring(`satellite_agent_checks_total{status="healthy",strategy="http"}`),
			ContainSubstring("satellite_agent_connected 1"),
			ContainSubstring("satellite_agent_buffered_results 0"),
			ContainSubstring("satellite_agent_dropped_results_total 0")))
		code, _ = a.get("/healthz")
		Expect(code).To(Equal(200))

		By("shutting down as on SIGTERM: a clean close makes the Satellite Offline after the 1s grace, not its 45s threshold")
		Expect(a.stop()).To(Succeed())
		// Within 30 s, not 45: the grace, not the threshold, however busy the machine is.
		Eventually(state(sat)).WithTimeout(30 * time.Second).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(getSatellite(ctx, sat).Status.Conditions).To(ContainElement(And(
			HaveField("Type", v1alpha1.ConditionOnline), HaveField("Status", metav1.ConditionFalse))))
		Expect(logs.String()).NotTo(ContainSubstring(sat.Token))
	})

	It("applies a changed assignment without reconnecting", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		before, after, other := newTarget(), newTarget(), newTarget()
		hca := httpAssignment(ns, "payments", "eu-west", before.URL, 5*time.Second)
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		// A second assignment, so that a change of one is sent as a patch, smaller than the list.
		Expect(k8sClient.Create(ctx, httpAssignment(ns, "orders", "eu-west", other.URL, 5*time.Second))).To(Succeed())
		a := startAgent("eu-west", agent.Config{CoreURL: coreURL(running.HubAddr), ClientID: sat.ClientID, Token: sat.Token})
		Eventually(func() int64 { return before.requests.Load() }).Should(BeNumerically(">=", 1))
		Eventually(func() int64 { return other.requests.Load() }).Should(BeNumerically(">=", 1))
		Eventually(func() *metav1.Time { return getSatellite(ctx, sat).Status.ConnectedSince }).ShouldNot(BeNil())
		connectedSince := getSatellite(ctx, sat).Status.ConnectedSince

		By("changing the URL and the interval")
		logged := len(logs.String())
		// The manager writes the status meanwhile: a stale read is read again, as kubectl edit does.
		Eventually(func() error {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			hca.Spec.Check.HTTP.URL = after.URL
			hca.Spec.Check.Interval = &metav1.Duration{Duration: 6 * time.Second}
			return k8sClient.Update(ctx, hca)
		}).Should(Succeed())
		// The restarted check starts at a random phase within its 6s interval.
		Eventually(func() int64 { return after.requests.Load() }).Should(BeNumerically(">=", 1))
		stale := before.requests.Load()
		Consistently(func() int64 { return before.requests.Load() }).Should(Equal(stale), "the old URL is no longer checked")

		Expect(a.stats()).To(And(HaveField("DialAttempts", BeEquivalentTo(1)), HaveField("Connections", BeEquivalentTo(1))))
		Expect(getSatellite(ctx, sat).Status.ConnectedSince).To(Equal(connectedSince))
		// The change came as a patch that carried the one assignment, not as the whole list, and
		// the other assignment kept its schedule.
		Expect(logs.String()[logged:]).To(MatchRegexp(`Applied assignments.*"from": ?"config_patch".*"total": ?2.*"restarted": ?1.*"unchanged": ?1`))
	})

	It("stops dialing after the manager refuses its token, and retries at once when the token file changes", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		tokenFile := filepath.Join(GinkgoT().TempDir(), "token")
		Expect(os.WriteFile(tokenFile, []byte("csat_not-the-token\n"), 0o600)).To(Succeed())
		a := startAgent("eu-west", agent.Config{CoreURL: coreURL(running.HubAddr), ClientID: sat.ClientID, TokenFile: tokenFile})
		Eventually(logs.String).Should(ContainSubstring("refused the satellite's credentials"))

		// The backoff would dial at most 1s, 2s, 4s and 8s apart: three or four times in 10s.
		// The slow retry (5 minutes) dials not once more.
		Consistently(func() uint64 { return a.stats().DialAttempts }).WithTimeout(10 * time.Second).WithPolling(250 * time.Millisecond).
			Should(BeEquivalentTo(1))
		Expect(a.stats().Connected).To(BeFalse())
		code, _ := a.get("/readyz")
		Expect(code).To(Equal(503))

		By("replacing the token file as the kubelet does: write, then rename")
		staged := tokenFile + ".new"
		Expect(os.WriteFile(staged, []byte(sat.Token+"\n"), 0o600)).To(Succeed())
		Expect(os.Rename(staged, tokenFile)).To(Succeed())
		// Within 30 s, far below the 5-minute wait after a refusal: the new file woke the agent.
		Eventually(connected(a)).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(a.stats().DialAttempts).To(BeEquivalentTo(2))
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		Expect(logs.String()).NotTo(ContainSubstring(sat.Token))
	})

	It("loses and double-counts no result while its connection is cut", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		web := newTarget()
		hca := httpAssignment(ns, "payments", "eu-west", web.URL, 5*time.Second)
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		link := newProxy(running.HubAddr)
		// A low cap keeps the reconnect after the cut within the suite's time; the cut tests the
		// buffer, and the backoff has its unit tests.
		a := startAgent("eu-west", agent.Config{CoreURL: coreURL(link.addr()), ClientID: sat.ClientID, Token: sat.Token,
			ReconnectMax: 2 * time.Second})
		Eventually(func() uint64 { return ingested(ns, "payments", "eu-west") }).Should(BeNumerically(">=", 1))

		By("cutting the connection while the check runs twice")
		link.cut()
		Eventually(connected(a)).Should(BeFalse())
		producedAtCut := a.stats().ResultsProduced
		Eventually(func() uint64 { return a.stats().ResultsProduced }).WithTimeout(15*time.Second).
			Should(BeNumerically(">=", producedAtCut+2), "checks go on while disconnected")
		Expect(a.stats()).To(And(
			HaveField("Connected", BeFalse()),
			HaveField("ResultsBuffered", BeNumerically(">=", 2)),
			HaveField("DialAttempts", BeNumerically(">", 1))))

		By("restoring it: every result produced reaches the manager exactly once")
		link.restore()
		Eventually(connected(a)).Should(BeTrue())
		Eventually(func(g Gomega) {
			s := a.stats()
			g.Expect(s.ResultsBuffered).To(BeZero())
			g.Expect(ingested(ns, "payments", "eu-west")).To(Equal(s.ResultsProduced))
		}).Should(Succeed())
		Expect(a.stats()).To(And(HaveField("Connections", BeEquivalentTo(2)), HaveField("ResultsDropped", BeZero())))
	})

	It("loses and double-counts no result while the manager is stopped for 30 s and restarted", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		web := newTarget()
		hca := httpAssignment(ns, "payments", "eu-west", web.URL, 5*time.Second)
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		a := startAgent("eu-west", agent.Config{CoreURL: coreURL(running.HubAddr), ClientID: sat.ClientID, Token: sat.Token,
			ReconnectMax: 2 * time.Second})
		Eventually(func() uint64 { return ingested(ns, "payments", "eu-west") }).Should(BeNumerically(">=", 1))

		checkState := func() v1alpha1.CheckState {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}
		Eventually(checkState).Should(Equal(v1alpha1.CheckHealthy))

		By("stopping the manager for 30 s")
		producedBefore := a.stats().ResultsProduced
		Expect(running.Restart(30 * time.Second)).To(Succeed())
		Expect(a.stats().ResultsProduced-producedBefore).To(BeNumerically(">=", 5), "checks went on without the manager")
		// The new manager holds no results yet; the persisted ones stand meanwhile.
		Consistently(checkState).WithTimeout(2 * time.Second).Should(Equal(v1alpha1.CheckHealthy))

		By("every result produced reaches the new manager exactly once")
		Eventually(connected(a)).WithTimeout(15 * time.Second).Should(BeTrue())
		Eventually(func(g Gomega) {
			s := a.stats()
			g.Expect(s.ResultsBuffered).To(BeZero())
			g.Expect(ingested(ns, "payments", "eu-west")).To(Equal(s.ResultsProduced))
		}).Should(Succeed())
		Expect(a.stats().ResultsDropped).To(BeZero())
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
	})

	It("exits when another agent takes over its identity", func() {
		sat := createSatellite(ctx, ns, "eu-west")
		cfg := agent.Config{CoreURL: coreURL(running.HubAddr), ClientID: sat.ClientID, Token: sat.Token}
		first := startAgent("first", cfg)
		Eventually(connected(first)).Should(BeTrue())

		second := startAgent("second", cfg)
		Eventually(first.done).Should(BeClosed())
		Expect(first.err).To(MatchError(agent.ErrReplaced))
		Expect(second.stats().Connected).To(BeTrue())
		Consistently(func() uint64 { return second.stats().Connections }).Should(BeEquivalentTo(1))
	})
})
