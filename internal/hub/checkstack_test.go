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
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// csClient is a satellite that speaks only Checkstack's dialect, written from the facts of
// issue 10 (Checkstack's satellite 0.5.15 against this manager), not from our agent: it
// advertises only capabilities of Checkstack's own, reads assignments as plain JSON keyed by
// Checkstack's strategy and collector IDs, and reports the raw outcome of its collectors.
type csClient struct{ *conn }

// csAssignment is an assignment as Checkstack's satellite reads it.
type csAssignment struct {
	ConfigID   string         `json:"configId"`
	SystemID   string         `json:"systemId"`
	StrategyID string         `json:"strategyId"`
	Config     map[string]any `json:"config"`
	Collectors []struct {
		ID          string         `json:"id"`
		CollectorID string         `json:"collectorId"`
		Config      map[string]any `json:"config"`
	} `json:"collectors"`
	IntervalSeconds int `json:"intervalSeconds"`
}

func connectCheckstack(s *satellite) (*csClient, []csAssignment) {
	GinkgoHelper()
	c := &csClient{dial(nil)}
	c.json(map[string]any{"type": "authenticate", "clientId": s.ClientID, "token": s.Token, "capabilities": []string{"telemetry"}})
	frame := c.frame()
	Expect(frame.Type).To(Equal("authenticated"))
	return c, frame.Assignments
}

func (c *csClient) json(v any) {
	GinkgoHelper()
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	c.sendRaw(data)
}

type csFrame struct {
	Type        string         `json:"type"`
	Assignments []csAssignment `json:"assignments"`
	IDs         []string       `json:"ids"`
}

// frame returns the next frame from the manager, waiting up to 10 s.
func (c *csClient) frame() csFrame {
	GinkgoHelper()
	select {
	case data := <-c.frames:
		var f csFrame
		Expect(json.Unmarshal(data, &f)).To(Succeed())
		return f
	case <-c.end:
		Fail(fmt.Sprintf("the connection ended while a frame was awaited: %v", c.err))
	case <-time.After(10 * time.Second):
		Fail("no frame within 10 s")
	}
	return csFrame{}
}

// list waits for a config_updated whose assignments satisfy ok, and returns them.
func (c *csClient) list(ok func([]csAssignment) bool) []csAssignment {
	GinkgoHelper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f := c.frame(); f.Type == "config_updated" && ok(f.Assignments) {
			return f.Assignments
		}
	}
	Fail("no config_updated with the awaited assignments within 10 s")
	return nil
}

// report sends a result as Checkstack's satellite does: the raw status and the collectors'
// results in the metadata, no id.
func (c *csClient) report(a csAssignment, extra map[string]any, collectors map[string]any) {
	GinkgoHelper()
	r := map[string]any{"type": "result", "configId": a.ConfigID, "systemId": a.SystemID, "status": "healthy", "latencyMs": 3,
		"result":     map[string]any{"status": "healthy", "latencyMs": 3, "metadata": map[string]any{"collectors": collectors}},
		"executedAt": time.Now().UTC().Format(time.RFC3339Nano)}
	for k, v := range extra {
		r[k] = v
	}
	c.json(r)
}

var _ = Describe("A satellite that speaks Checkstack's dialect", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	create := func(name string, check v1alpha1.CheckSpec) *v1alpha1.HealthCheckAssignment {
		GinkgoHelper()
		hca := &v1alpha1.HealthCheckAssignment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       v1alpha1.HealthCheckAssignmentSpec{System: "payments-api", Check: check, Satellites: []string{"cs"}},
		}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		return hca
	}
	get := func(hca *v1alpha1.HealthCheckAssignment) *v1alpha1.HealthCheckAssignment {
		GinkgoHelper()
		out := &v1alpha1.HealthCheckAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), out)).To(Succeed())
		return out
	}
	events := func(obj client.Object, reason string) func() []string {
		return func() []string {
			list := &eventsv1.EventList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			var notes []string
			for _, e := range list.Items {
				if e.Regarding.UID == obj.GetUID() && e.Reason == reason && e.Type == corev1.EventTypeWarning {
					notes = append(notes, e.Note)
				}
			}
			return notes
		}
	}

	It("receives each of the six check types in Checkstack's shape", func() {
		sat := createSatellite(ctx, ns, "cs", "eu-west-1", nil)
		c, initial := connectCheckstack(sat)
		defer c.close()
		Expect(initial).To(BeEmpty())
		create("http", v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, HTTP: &v1alpha1.HTTPCheck{URL: "https://example.com/healthz"}})
		create("tcp", v1alpha1.CheckSpec{Type: v1alpha1.CheckTCP, TCP: &v1alpha1.TCPCheck{Host: "db.example.com", Port: 5432}})
		create("dns", v1alpha1.CheckSpec{Type: v1alpha1.CheckDNS, DNS: &v1alpha1.DNSCheck{Name: "example.com"}})
		create("tls", v1alpha1.CheckSpec{Type: v1alpha1.CheckTLS, TLS: &v1alpha1.TLSCheck{Host: "example.com"}})
		create("grpc", v1alpha1.CheckSpec{Type: v1alpha1.CheckGRPC, GRPC: &v1alpha1.GRPCCheck{Address: "api.example.com:443", TLS: true}})
		create("icmp", v1alpha1.CheckSpec{Type: v1alpha1.CheckICMP, ICMP: &v1alpha1.ICMPCheck{Host: "10.0.0.1"}})

		list := c.list(func(as []csAssignment) bool { return len(as) == 6 })
		byStrategy := map[string]csAssignment{}
		for _, a := range list {
			byStrategy[a.StrategyID] = a
			Expect(a.Config).To(HaveKeyWithValue("timeout", BeNumerically("==", 10000)), "strategy %s", a.StrategyID)
			Expect(a.IntervalSeconds).To(Equal(30))
		}
		Expect(byStrategy).To(HaveLen(6))
		Expect(byStrategy).To(HaveKey("healthcheck-http.http"))
		http := byStrategy["healthcheck-http.http"]
		Expect(http.Config).To(HaveLen(1), "the strategy config of http is only {timeout}")
		Expect(http.Collectors).To(HaveLen(1))
		Expect(http.Collectors[0].CollectorID).To(Equal("healthcheck-http.request"))
		Expect(http.Collectors[0].Config).To(HaveKeyWithValue("url", "https://example.com/healthz"))
		Expect(http.Collectors[0].Config).To(HaveKeyWithValue("method", "GET"))
		Expect(byStrategy["healthcheck-tcp.tcp"].Config).To(HaveKeyWithValue("host", "db.example.com"))
		Expect(byStrategy["healthcheck-tcp.tcp"].Config).To(HaveKeyWithValue("port", BeNumerically("==", 5432)))
		Expect(byStrategy["healthcheck-dns.dns"].Collectors[0].CollectorID).To(Equal("healthcheck-dns.lookup"))
		Expect(byStrategy["healthcheck-dns.dns"].Collectors[0].Config).To(HaveKeyWithValue("hostname", "example.com"))
		Expect(byStrategy["healthcheck-tls.tls"].Config).To(HaveKeyWithValue("minDaysUntilExpiry", BeNumerically("==", 14)))
		Expect(byStrategy["healthcheck-tls.tls"].Collectors[0].CollectorID).To(Equal("healthcheck-tls.certificate"))
		Expect(byStrategy["healthcheck-grpc.grpc"].Config).To(HaveKeyWithValue("useTls", true))
		Expect(byStrategy["healthcheck-grpc.grpc"].Collectors[0].CollectorID).To(Equal("healthcheck-grpc.health"))
		Expect(byStrategy["healthcheck-ping.ping"].Collectors[0].Config).To(HaveKeyWithValue("host", "10.0.0.1"))

		Eventually(func() *v1alpha1.AgentStatus { return getSatellite(ctx, sat).Status.Agent }).Should(Equal(
			&v1alpha1.AgentStatus{Kind: v1alpha1.AgentCheckstack, Capabilities: []string{"telemetry"}}))
	})

	It("judges its raw results, takes a 200 KiB result, and hands it an edit as a new assignment", func() {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
		}))
		defer target.Close()
		sat := createSatellite(ctx, ns, "cs", "eu-west-1", nil)
		c, _ := connectCheckstack(sat)
		defer c.close()
		// An Offline satellite does not report: it stays Online however long the spec takes.
		c.heartbeats(500 * time.Millisecond)
		hca := create("expects-204", v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP,
			HTTP: &v1alpha1.HTTPCheck{URL: target.URL + "/v1", ExpectedStatusCodes: []int32{204}}})
		first := c.list(func(as []csAssignment) bool { return len(as) == 1 })[0]

		By("running the request as Checkstack's collector does and reporting the raw status with a 200 KiB body")
		resp, err := http.Get(first.Collectors[0].Config["url"].(string))
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		c.report(first, nil, map[string]any{first.Collectors[0].ID: map[string]any{
			"_collectorId": "healthcheck-http.request", "statusCode": resp.StatusCode, "statusText": "OK",
			"body": strings.Repeat("x", 200<<10), "bodyLength": 200 << 10, "success": true}})
		Eventually(func() v1alpha1.CheckState { return get(hca).Status.State }).Should(Equal(v1alpha1.CheckUnhealthy))
		entries := get(hca).Status.Satellites
		Expect(entries).To(HaveLen(1))
		Expect(entries[0].Message).To(Equal("HTTP 200, expected [204]"))
		Expect(len(entries[0].Message)).To(BeNumerically("<=", 1024))
		c.quiet()

		By("editing the URL")
		Eventually(func() error {
			latest := get(hca)
			latest.Spec.Check.HTTP.URL = target.URL + "/v2"
			return k8sClient.Update(ctx, latest)
		}).Should(Succeed())
		edited := c.list(func(as []csAssignment) bool {
			return len(as) == 1 && as[0].Collectors[0].Config["url"] == target.URL+"/v2"
		})[0]
		Expect(edited.ConfigID).NotTo(Equal(first.ConfigID), "Checkstack's satellite ignores an edit with the same configId")

		By("reporting late for the edited-away revision")
		before := resultsTotal("superseded")
		c.report(first, map[string]any{"id": "late-1"}, map[string]any{"request": map[string]any{"statusCode": 204}})
		f := c.frame()
		Expect(f.Type).To(Equal("result_ack"))
		Expect(f.IDs).To(Equal([]string{"late-1"}))
		Expect(resultsTotal("superseded") - before).To(BeEquivalentTo(1))
		Consistently(func() v1alpha1.CheckState { return get(hca).Status.State }).Should(Equal(v1alpha1.CheckUnhealthy))
	})

	It("ignores and counts Checkstack's newer frame types, keeping the session open", func() {
		sat := createSatellite(ctx, ns, "cs", "eu-west-1", nil)
		c, _ := connectCheckstack(sat)
		defer c.close()
		ignored := func(t string) float64 {
			return metricValue("satellite_frames_ignored_total", map[string]string{"type": t})
		}
		telemetry, status := ignored("telemetry_batch"), ignored("capability_status")
		c.json(map[string]any{"type": "telemetry_batch", "batchId": "1", "kind": "logstream", "payload": []any{}})
		c.json(map[string]any{"type": "capability_status", "kind": "metric-scrape", "payload": map[string]any{}})
		c.quiet()
		Expect(ignored("telemetry_batch") - telemetry).To(BeEquivalentTo(1))
		Expect(ignored("capability_status") - status).To(BeEquivalentTo(1))
		c.json(map[string]any{"type": "heartbeat", "version": "0.5.15", "uptimeSeconds": 1})
		Eventually(func() string { return getSatellite(ctx, sat).Status.Version }).Should(Equal("0.5.15"))
	})

	It("is not sent a check it cannot carry, and the condition and an Event say why", func() {
		sat := createSatellite(ctx, ns, "cs", "eu-west-1", nil)
		c, _ := connectCheckstack(sat)
		defer c.close()
		hca := create("no-redirects", v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP,
			HTTP: &v1alpha1.HTTPCheck{URL: "https://example.com/", FollowRedirects: ptr.To(false)}})
		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(get(hca).Status.Conditions, v1alpha1.ConditionReady)
		}).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", v1alpha1.ReasonNotRelayable),
			HaveField("Message", And(ContainSubstring("cs"), ContainSubstring("followRedirects")))))
		Eventually(events(hca, v1alpha1.EventNotRelayable)).Should(ConsistOf(ContainSubstring("followRedirects")))
		// Whatever the manager pushed this session, the check is not in it.
		Consistently(func() []csAssignment {
			select {
			case data := <-c.frames:
				var f csFrame
				Expect(json.Unmarshal(data, &f)).To(Succeed())
				return f.Assignments
			default:
				return nil
			}
		}).Should(BeEmpty())
	})

	It("closes a frame over 1 MiB with 1009, logs its size and type, and reports three in a row", func() {
		sat := createSatellite(ctx, ns, "poison", "eu-west-1", nil)
		before := metricValue("satellite_repeated_closes_total", map[string]string{"namespace": ns, "satellite": "poison", "code": "1009"})
		for range 3 {
			c, _ := connectCheckstack(sat)
			c.sendRaw([]byte(`{"type":"result","configId":"x","systemId":"y","status":"healthy","result":{"status":"healthy","latencyMs":1,"metadata":{"body":"` +
				strings.Repeat("x", 1<<20) + `"}},"executedAt":"2026-11-27T10:00:00Z"}`))
			code, _ := c.closed(5 * time.Second)
			Expect(code).To(Equal(websocket.CloseMessageTooBig))
		}
		Expect(logs.String()).To(ContainSubstring("Closing session: frame over the limit"))
		Expect(logs.String()).To(ContainSubstring(`"type": "result"`))
		Eventually(events(sat.Obj, v1alpha1.EventRepeatedClose)).Should(ConsistOf(ContainSubstring("3 times in a row with code 1009")))
		Expect(metricValue("satellite_repeated_closes_total", map[string]string{"namespace": ns, "satellite": "poison", "code": "1009"}) - before).
			To(BeEquivalentTo(1))
	})
})
