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
	"sync"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("An API server outage", func() {
	It("ends the leader's term but not its sessions, and the next term catches up", func() {
		ctx := context.Background()
		c := running.Client
		Eventually(running.Operator.Elector.Leading).Should(BeTrue())
		ns := testutil.NewNamespace(ctx, c)
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

		agent := dialAgent(sat)
		defer agent.close()
		Eventually(func() v1alpha1.SatelliteState { return sat.Get(ctx, c).Status.State }).Should(Equal(v1alpha1.SatelliteOnline))

		By("stopping kube-apiserver")
		resume, err := running.PauseAPIServer()
		Expect(err).NotTo(HaveOccurred())
		resumed := false
		defer func() {
			if !resumed {
				_ = resume()
			}
		}()
		Eventually(running.Operator.Elector.Leading).Should(BeFalse(), "the term outlived its renew deadline")
		Expect(running.ManagerRunning()).To(BeTrue(), "the manager exited when its term ended")

		By("taking a result while the API server is away")
		agent.send(&protocol.Result{ID: "during-outage", ConfigID: string(hca.UID), SystemID: "payments-api",
			Status: v1alpha1.ResultDegraded, LatencyMs: ptr.To(812.0), ExecutedAt: time.Now()})
		Eventually(agent.acked).WithArguments("during-outage").Should(BeTrue())

		By("starting kube-apiserver again")
		Expect(resume()).To(Succeed())
		resumed = true
		Eventually(running.Operator.Elector.Leading).Should(BeTrue())
		Eventually(func() v1alpha1.CheckState {
			Expect(c.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckDegraded), "the result taken during the outage reached the status")

		By("reconciling what changed meanwhile")
		other := testutil.CreateSatellite(ctx, c, &v1alpha1.Satellite{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "us-east"},
			Spec: v1alpha1.SatelliteSpec{Region: "us-east-1"}})
		Expect(other.Token).NotTo(BeEmpty())

		Expect(agent.ended()).To(BeFalse(), "the session was closed: %v", agent.err)
		Expect(running.ManagerRunning()).To(BeTrue())
		Expect(sat.Get(ctx, c).Status.State).To(Equal(v1alpha1.SatelliteOnline))
		events := &eventsv1.EventList{}
		Expect(c.List(ctx, events, client.InNamespace(ns))).To(Succeed())
		for _, e := range events.Items {
			if e.Regarding.Name == sat.Obj.Name {
				Expect(e.Reason).NotTo(BeElementOf(v1alpha1.EventSatelliteOffline), "the satellite never went away: %s", e.Note)
			}
		}
	})
})

// agentConn is a satellite's session, kept alive as an agent keeps it: a goroutine reads
// every frame (answering pings) and another sends a heartbeat every second, however long the
// spec waits elsewhere.
type agentConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex

	mu    sync.Mutex
	acks  map[string]bool
	end   chan struct{}
	err   error
	close func()
}

func dialAgent(sat *testutil.Satellite) *agentConn {
	GinkgoHelper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+running.HubAddr+protocol.Path, nil)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	a := &agentConn{ws: ws, acks: map[string]bool{}, end: make(chan struct{})}
	a.send(&protocol.Authenticate{ClientID: sat.ClientID, Token: sat.Token, Capabilities: []string{protocol.CapabilityCheckConfig}})
	_, data, err := ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	m, err := protocol.DecodeFromManager(data)
	Expect(err).NotTo(HaveOccurred())
	Expect(m).To(BeAssignableToTypeOf(&protocol.Authenticated{}))

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
		if ack, ok := decode(data).(*protocol.ResultAck); ok {
			a.mu.Lock()
			for _, id := range ack.IDs {
				a.acks[id] = true
			}
			a.mu.Unlock()
		}
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

func (a *agentConn) ended() bool {
	select {
	case <-a.end:
		return true
	default:
		return false
	}
}
