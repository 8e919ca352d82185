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
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("Leadership", func() {
	ctx := context.Background()

	It("survives an API server outage: the term ends, the sessions and the Lease stay, and the next term catches up", func() {
		c := running.Client
		lead, other := leader()
		ns := testutil.NewNamespace(ctx, c)
		sat, hca := satelliteWithAssignment(ctx, ns)
		agent := dialAgent(lead.hubAddr, sat)
		defer agent.close()
		Eventually(func() v1alpha1.SatelliteState { return sat.Get(ctx, c).Status.State }).Should(Equal(v1alpha1.SatelliteOnline))
		before := getLease(ctx)

		By("stopping kube-apiserver for longer than the lease duration")
		resume, err := controlplane.PauseAPIServer(running.Config)
		Expect(err).NotTo(HaveOccurred())
		resumed := false
		defer func() {
			if !resumed {
				_ = resume()
			}
		}()
		Eventually(lead.op.Elector.Leading).Should(BeFalse(), "the term outlived its renew deadline")
		Expect(running.ManagerRunning()).To(BeTrue(), "the manager exited when its term ended")

		By("taking a result while the API server is away")
		agent.send(&protocol.Result{ID: "during-outage", ConfigID: string(hca.UID), SystemID: "payments-api",
			Status: v1alpha1.ResultDegraded, LatencyMs: ptr.To(812.0), ExecutedAt: time.Now()})
		Eventually(agent.acked).WithArguments("during-outage").Should(BeTrue())
		// The outage itself, not a wait for a condition: every replica's clock must see the
		// leader's Lease expire, which is what would tempt the standby to take it.
		time.Sleep(time.Duration(*before.Spec.LeaseDurationSeconds) * time.Second)

		By("starting kube-apiserver again")
		Expect(resume()).To(Succeed())
		resumed = true
		Eventually(lead.op.Elector.Leading).Should(BeTrue(), "the leader won its Lease back")
		after := getLease(ctx)
		Expect(*after.Spec.HolderIdentity).To(Equal(lead.op.Elector.Identity()))
		Expect(after.Spec.LeaseTransitions).To(Equal(before.Spec.LeaseTransitions), "nobody else held the Lease in between")
		Expect(other.op.Elector.Leading()).To(BeFalse())
		Eventually(func() v1alpha1.CheckState {
			Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckDegraded), "the result taken during the outage reached the status")

		By("reconciling what changed meanwhile")
		created := testutil.CreateSatellite(ctx, c, &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "us-east"},
			Spec: v1alpha1.SatelliteSpec{Region: "us-east-1"}})
		Expect(created.Token).NotTo(BeEmpty())

		Expect(agent.ended()).To(BeFalse(), "the session was closed: %v", agent.err)
		Expect(running.ManagerRunning()).To(BeTrue())
		Expect(sat.Get(ctx, c).Status.State).To(Equal(v1alpha1.SatelliteOnline))
		Expect(eventReasons(ctx, ns, sat.Obj.Name)).NotTo(ContainElement(v1alpha1.EventSatelliteOffline), "the satellite never went away")
	})
})

// satelliteWithAssignment creates a Satellite and an assignment that selects it, and waits
// until the assignment's status counts it.
func satelliteWithAssignment(ctx context.Context, ns string) (*testutil.Satellite, *v1alpha1.HealthCheckAssignment) {
	GinkgoHelper()
	c := running.Client
	sat := testutil.CreateSatellite(ctx, c, &v1alpha1.Satellite{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eu-west"},
		Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", OfflineThresholdSeconds: ptr.To[int32](5)},
	})
	hca := &v1alpha1.HealthCheckAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payments"},
		Spec: v1alpha1.HealthCheckAssignmentSpec{
			System:     "payments-api",
			Satellites: []string{"eu-west"},
			Check: v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, Interval: &metav1.Duration{Duration: 30 * time.Second},
				HTTP: &v1alpha1.HTTPCheck{URL: "https://payments.example.com/healthz"}},
		},
	}
	Expect(c.Create(ctx, hca)).To(Succeed())
	Eventually(func() int32 {
		Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
		return hca.Status.SelectedSatellites
	}).Should(BeEquivalentTo(1))
	return sat, hca
}

func getLease(ctx context.Context) *coordinationv1.Lease {
	GinkgoHelper()
	lease := &coordinationv1.Lease{}
	Expect(running.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: leaseName}, lease)).To(Succeed())
	return lease
}

// eventNotes lists the notes of the Events with that reason about the object of that name in ns.
func eventNotes(ctx context.Context, ns, name, reason string) []string {
	GinkgoHelper()
	events := &eventsv1.EventList{}
	Expect(running.Client.List(ctx, events, client.InNamespace(ns))).To(Succeed())
	var notes []string
	for _, e := range events.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// eventReasons lists the reasons of the Events about the object of that name in ns.
func eventReasons(ctx context.Context, ns, name string) []string {
	GinkgoHelper()
	events := &eventsv1.EventList{}
	Expect(running.Client.List(ctx, events, client.InNamespace(ns))).To(Succeed())
	var reasons []string
	for _, e := range events.Items {
		if e.Regarding.Name == name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// agentConn is a satellite's session, kept alive as an agent keeps it: a goroutine reads
// every frame (answering pings) and another sends a heartbeat every second, however long the
// spec waits elsewhere.
type agentConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex

	mu       sync.Mutex
	acks     map[string]bool
	shutdown string // the reason of the shutdown frame, if one came
	end      chan struct{}
	err      error
	close    func()
}

// dialAgent dials hubAddr as the satellite and returns the authenticated session.
func dialAgent(hubAddr string, sat *testutil.Satellite) *agentConn {
	GinkgoHelper()
	a, code := dialOrRefused(hubAddr, sat)
	Expect(a).NotTo(BeNil(), "the manager refused the satellite with %d", code)
	return a
}

// dialOrRefused dials hubAddr as the satellite, an agent of ours that advertises caps beside
// protocol.CapabilityCheckConfig: it returns the session when it was authenticated, or the
// close code it was refused with.
func dialOrRefused(hubAddr string, sat *testutil.Satellite, caps ...string) (*agentConn, int) {
	GinkgoHelper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+hubAddr+protocol.Path, nil)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	caps = append([]string{protocol.CapabilityCheckConfig}, caps...)
	data, err := protocol.Encode(&protocol.Authenticate{ClientID: sat.ClientID, Token: sat.Token, Capabilities: caps})
	Expect(err).NotTo(HaveOccurred())
	Expect(ws.WriteMessage(websocket.TextMessage, data)).To(Succeed())
	for {
		_, data, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return nil, ce.Code
		}
		Expect(err).NotTo(HaveOccurred())
		if _, ok := decode(data).(*protocol.Authenticated); ok {
			return startAgent(ws), 0
		}
	}
}

// startAgent runs an authenticated session: it reads what the manager sends and heartbeats
// every second until closed.
func startAgent(ws *websocket.Conn) *agentConn {
	a := &agentConn{ws: ws, acks: map[string]bool{}, end: make(chan struct{})}
	stop := make(chan struct{})
	a.close = func() {
		close(stop)
		_ = ws.Close()
	}
	go a.read()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-a.end:
				return
			case <-t.C:
				a.send(&protocol.Heartbeat{Version: "0.1.0"})
			}
		}
	}()
	return a
}

func (a *agentConn) read() {
	defer close(a.end)
	for {
		_, data, err := a.ws.ReadMessage()
		if err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			return
		}
		a.mu.Lock()
		switch m := decode(data).(type) {
		case *protocol.ResultAck:
			for _, id := range m.IDs {
				a.acks[id] = true
			}
		case *protocol.Shutdown:
			a.shutdown = m.Reason
		}
		a.mu.Unlock()
	}
}

func decode(data []byte) protocol.Message {
	m, err := protocol.DecodeFromManager(data)
	if err != nil {
		return nil
	}
	return m
}

func (a *agentConn) send(m protocol.Message) {
	data, err := protocol.Encode(m)
	Expect(err).NotTo(HaveOccurred())
	a.wmu.Lock()
	defer a.wmu.Unlock()
	_ = a.ws.WriteMessage(websocket.TextMessage, data)
}

func (a *agentConn) acked(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acks[id]
}

// closeCode is the close code that ended the session, -1 when it ended without one; call it
// once ended.
func (a *agentConn) closeCode() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ce *websocket.CloseError
	if errors.As(a.err, &ce) {
		return ce.Code
	}
	return -1
}

func (a *agentConn) shutdownReason() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.shutdown
}

func (a *agentConn) ended() bool {
	select {
	case <-a.end:
		return true
	default:
		return false
	}
}
