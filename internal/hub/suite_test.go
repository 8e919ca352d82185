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
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/hub"
	"github.com/checkstack/satellite-operator/internal/operator"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

// The suite runs the whole manager against a real kube-apiserver and etcd, and talks to its
// endpoint with a real gorilla client, as a satellite written from DESIGN.md section 4 would.
var (
	running   *controlplane.Running
	k8sClient client.Client
	logs      = &testutil.LogBuffer{}
)

const (
	preAuthTimeout = time.Second
	reportInterval = 2 * time.Second
	messageBurst   = 40
)

func TestHub(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Hub Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(300 * time.Millisecond)

	var err error
	running, err = controlplane.StartOperator(operator.Config{
		Hub: hub.Options{
			HeartbeatInterval: time.Second,
			PreAuthTimeout:    preAuthTimeout,
			MessageRate:       20,
			MessageBurst:      messageBurst,
		},
		DisconnectGrace:      time.Second,
		StatusReportInterval: reportInterval,
	})
	Expect(err).NotTo(HaveOccurred())
	k8sClient = running.Client
})

var _ = AfterSuite(func() {
	if running != nil {
		Expect(running.Stop()).To(Succeed())
	}
})

func newNamespace(ctx context.Context) string { return testutil.NewNamespace(ctx, k8sClient) }

// satellite is a test satellite: the object and the credentials a user would hand its agent.
type satellite = testutil.Satellite

func createSatellite(ctx context.Context, ns, name, region string, labels map[string]string) *satellite {
	return testutil.CreateSatellite(ctx, k8sClient, &v1alpha1.Satellite{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       v1alpha1.SatelliteSpec{Region: region, OfflineThresholdSeconds: ptr.To[int32](5)},
	})
}

// countEvents counts the Events of reason about obj, a series as two or more.
func countEvents(ctx context.Context, obj client.Object, reason string) int {
	GinkgoHelper()
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	n := 0
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() && e.Reason == reason {
			n++
			if e.Series != nil {
				n++
			}
		}
	}
	return n
}

// satelliteState polls the Satellite's state.
func satelliteState(ctx context.Context, s *satellite) func() v1alpha1.SatelliteState {
	return func() v1alpha1.SatelliteState { return getSatellite(ctx, s).Status.State }
}

func getSatellite(ctx context.Context, s *satellite) *v1alpha1.Satellite {
	return s.Get(ctx, k8sClient)
}

// conn is a satellite's connection as the test sees it. A reader goroutine reads every frame
// as it comes, so that pings are answered (and the connection stays up) however long the spec
// is busy elsewhere, for example creating 200 assignments on a loaded machine.
type conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex // gorilla allows one writer at a time
	frames chan []byte
	// end is closed when the connection ended; err says how.
	end chan struct{}
	err error
}

func endpoint() string { return "ws://" + running.HubAddr + protocol.Path }

func dial(header http.Header) *conn {
	GinkgoHelper()
	ws, resp, err := websocket.DefaultDialer.Dial(endpoint(), header)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	return newConn(ws)
}

// newConn starts reading a dialled connection.
func newConn(ws *websocket.Conn) *conn {
	c := &conn{ws: ws, frames: make(chan []byte, 1024), end: make(chan struct{})}
	go c.readPump()
	return c
}

// closeCode is the close code that ended c, -1 when it ended without a close frame; call it
// once c.end is closed.
func (c *conn) closeCode() int {
	var ce *websocket.CloseError
	if errors.As(c.err, &ce) {
		return ce.Code
	}
	return -1
}

func (c *conn) readPump() {
	defer close(c.end)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		c.frames <- data
	}
}

// connect dials and authenticates with the first frame, advertising our agent's capability, and
// returns the authenticated frame.
func connect(s *satellite) (*conn, *protocol.Authenticated) {
	GinkgoHelper()
	return connectWith(s, protocol.CapabilityCheckConfig)
}

// connectWith is connect advertising caps.
func connectWith(s *satellite, caps ...string) (*conn, *protocol.Authenticated) {
	GinkgoHelper()
	c := dial(nil)
	c.send(&protocol.Authenticate{ClientID: s.ClientID, Token: s.Token, Capabilities: caps})
	auth, ok := c.next().(*protocol.Authenticated)
	Expect(ok).To(BeTrue(), "the first frame after authenticate is authenticated")
	return c, auth
}

func (c *conn) send(m protocol.Message) {
	GinkgoHelper()
	data, err := protocol.Encode(m)
	Expect(err).NotTo(HaveOccurred())
	c.sendRaw(data)
}

func (c *conn) sendRaw(data []byte) {
	GinkgoHelper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	Expect(c.ws.WriteMessage(websocket.TextMessage, data)).To(Succeed())
}

// next returns the next frame from the manager, waiting up to 10 s.
func (c *conn) next() protocol.Message {
	GinkgoHelper()
	select {
	case data := <-c.frames:
		m, err := protocol.DecodeFromManager(data)
		Expect(err).NotTo(HaveOccurred(), "frame %s", data)
		return m
	case <-c.end:
		Fail(fmt.Sprintf("the connection ended while a frame was awaited: %v", c.err))
	case <-time.After(10 * time.Second):
		Fail("no frame within 10 s")
	}
	return nil
}

// closed waits up to d for the manager to close the connection, and returns the close code and
// the frames that came before the close.
func (c *conn) closed(d time.Duration) (int, []protocol.Message) {
	GinkgoHelper()
	var frames []protocol.Message
	timeout := time.After(d)
	for {
		select {
		case data := <-c.frames:
			if m, err := protocol.DecodeFromManager(data); err == nil {
				frames = append(frames, m)
			}
		case <-c.end:
			for len(c.frames) > 0 {
				if m, err := protocol.DecodeFromManager(<-c.frames); err == nil {
					frames = append(frames, m)
				}
			}
			var ce *websocket.CloseError
			Expect(errors.As(c.err, &ce)).To(BeTrue(), "the connection ended without a close frame: %v", c.err)
			return ce.Code, frames
		case <-timeout:
			Fail(fmt.Sprintf("the manager did not close the connection within %s", d))
		}
	}
}

// quiet asserts that no frame arrives for a while, and that the connection stays up.
func (c *conn) quiet() {
	GinkgoHelper()
	select {
	case data := <-c.frames:
		Fail(fmt.Sprintf("unexpected frame %s", data))
	case <-c.end:
		Fail(fmt.Sprintf("the connection ended: %v", c.err))
	case <-time.After(300 * time.Millisecond):
	}
}

// alive proves a connection still works: a heartbeat and a result round trip.
func (c *conn) alive() {
	GinkgoHelper()
	c.send(&protocol.Heartbeat{Version: "0.1.0"})
	c.send(&protocol.Result{ID: fmt.Sprintf("alive-%d", time.Now().UnixNano()), ConfigID: "none", SystemID: "none",
		Status: v1alpha1.ResultHealthy, ExecutedAt: time.Now()})
	_, ok := c.next().(*protocol.ResultAck)
	Expect(ok).To(BeTrue())
}

// heartbeats sends a heartbeat every interval until the connection ends, as an agent does.
func (c *conn) heartbeats(interval time.Duration) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.end:
				return
			case <-t.C:
				if err := c.writeHeartbeat(); err != nil {
					return
				}
			}
		}
	}()
}

func (c *conn) writeHeartbeat() error {
	data, err := protocol.Encode(&protocol.Heartbeat{Version: "0.1.0"})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *conn) close() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = c.ws.Close()
}

func httpAssignment(ns, name, url string) *v1alpha1.HealthCheckAssignment {
	return &v1alpha1.HealthCheckAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.HealthCheckAssignmentSpec{
			System: "payments-api",
			Check: v1alpha1.CheckSpec{
				Type:     v1alpha1.CheckHTTP,
				Interval: &metav1.Duration{Duration: 30 * time.Second},
				Timeout:  &metav1.Duration{Duration: 10 * time.Second},
				HTTP:     &v1alpha1.HTTPCheck{URL: url},
			},
		},
	}
}

func configIDs(as []protocol.Assignment) []string {
	ids := []string{}
	for _, a := range as {
		ids = append(ids, a.ConfigID)
	}
	return ids
}

func decodeConfig(a protocol.Assignment) protocol.CheckConfig {
	var cfg protocol.CheckConfig
	Expect(json.Unmarshal(a.Config, &cfg)).To(Succeed())
	return cfg
}

// resultsTotal reads satellite_results_total{status} from the registry the manager serves on
// /metrics.
func resultsTotal(status string) float64 {
	return metricValue("satellite_results_total", map[string]string{"status": status})
}

// checkUp reads satellite_check_up of one satellite's view of one assignment.
func checkUp(ns, assignment, sat string) float64 {
	return metricValue("satellite_check_up", map[string]string{"namespace": ns, "assignment": assignment, "satellite": sat})
}

// checkLatencySum reads the sum of satellite_check_latency_seconds of one satellite's view of one
// assignment.
func checkLatencySum(ns, assignment, sat string) float64 {
	GinkgoHelper()
	series, err := controlplane.Metrics("satellite_check_latency_seconds", map[string]string{"namespace": ns, "assignment": assignment, "satellite": sat})
	Expect(err).NotTo(HaveOccurred())
	Expect(series).To(HaveLen(1))
	return series[0].GetHistogram().GetSampleSum()
}

// metricValue reads the counter or gauge of the first series of name with labels, 0 if none.
func metricValue(name string, labels map[string]string) float64 {
	GinkgoHelper()
	series, err := controlplane.Metrics(name, labels)
	Expect(err).NotTo(HaveOccurred())
	if len(series) == 0 {
		return 0
	}
	if c := series[0].GetCounter(); c != nil {
		return c.GetValue()
	}
	return series[0].GetGauge().GetValue()
}

func getToken(ctx context.Context, ns, satellite string) string {
	secret := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: satellite + "-token"}, secret)).To(Succeed())
	return string(secret.Data[v1alpha1.SecretKeyToken])
}
