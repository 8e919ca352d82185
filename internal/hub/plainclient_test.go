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
	"encoding/json"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// A satellite written only from DESIGN.md section 4, as Checkstack's would be: plain JSON
// objects, no code of ours on the wire.
var _ = Describe("A client written from the protocol description alone", func() {
	It("authenticates, gets its assignments and their changes, and reports results", func() {
		ctx := context.Background()
		ns := newNamespace(ctx)
		sat := createSatellite(ctx, ns, "plain", "eu-west-1", nil)
		hca := httpAssignment(ns, "plain-check", "https://payments.example.com/healthz")
		hca.Spec.Satellites = []string{"plain"}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		// Connect once the manager selected the satellite, so that authenticated carries it.
		Eventually(func() int32 {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.SelectedSatellites
		}).Should(BeEquivalentTo(1))

		ws, resp, err := websocket.DefaultDialer.Dial(endpoint(), nil)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		defer func() { _ = ws.Close() }()
		send := func(frame map[string]any) { Expect(ws.WriteJSON(frame)).To(Succeed()) }
		receive := func() map[string]any {
			Expect(ws.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
			var frame map[string]any
			Expect(ws.ReadJSON(&frame)).To(Succeed())
			return frame
		}

		// It runs our CheckConfig, so it advertises that, as docs/protocol.md says.
		send(map[string]any{"type": "authenticate", "clientId": sat.ClientID, "token": sat.Token,
			"capabilities": []string{"satellite-operator.checkconfig.v1"}})
		auth := receive()
		Expect(auth).To(HaveKeyWithValue("type", "authenticated"))
		Expect(auth).To(HaveKeyWithValue("satelliteId", sat.ClientID))
		Expect(auth["assignments"]).To(ConsistOf(And(
			HaveKeyWithValue("configId", string(hca.UID)),
			HaveKeyWithValue("systemId", "payments-api"),
			HaveKeyWithValue("strategyId", "http"),
			HaveKeyWithValue("intervalSeconds", BeEquivalentTo(30)),
			HaveKey("config"),
		)))
		send(map[string]any{"type": "heartbeat", "version": "checkstack-0.2.0", "uptimeSeconds": 3})
		Eventually(func() string { return getSatellite(ctx, sat).Status.Version }).Should(Equal("checkstack-0.2.0"))

		By("a change arrives without reconnecting")
		// The manager writes the status meanwhile: a stale read is read again, as kubectl edit does.
		Eventually(func() error {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			hca.Spec.Check.Interval = &metav1.Duration{Duration: 20 * time.Second}
			return k8sClient.Update(ctx, hca)
		}).Should(Succeed())
		change := receive()
		Expect(change).To(HaveKeyWithValue("type", "config_updated"))
		Expect(change["assignments"]).To(ConsistOf(HaveKeyWithValue("intervalSeconds", BeEquivalentTo(20))))

		By("a result in Checkstack's shape, without our optional id")
		send(map[string]any{
			"type": "result", "configId": string(hca.UID), "systemId": "payments-api", "status": "degraded",
			"latencyMs": 812, "executedAt": time.Now().UTC().Format(time.RFC3339),
			"result": map[string]any{"status": "degraded", "latencyMs": 812, "message": "slow", "metadata": map[string]any{"statusCode": 200}},
		})
		Eventually(func() v1alpha1.CheckState {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.State
		}).Should(Equal(v1alpha1.CheckDegraded))
		Expect(hca.Status.Satellites).To(ConsistOf(And(HaveField("LatencyMs", BeEquivalentTo(812)), HaveField("Message", "slow"))))
		raw, err := json.Marshal(hca.Status)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring(sat.Token))
	})
})
