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
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/agent"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/hub"
	"github.com/checkstack/satellite-operator/internal/operator"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

// The suite runs real agents against the whole manager on a real kube-apiserver and etcd, as a
// user's satellite would run against their cluster.
var (
	running   *controlplane.Running
	k8sClient client.Client
	// logs collects the manager's and the agents' logs, to prove no token is ever written there.
	logs = &testutil.LogBuffer{}
)

func TestAgent(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Agent Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(300 * time.Millisecond)

	var err error
	running, err = controlplane.StartOperator(operator.Config{
		Hub:                  hub.Options{HeartbeatInterval: time.Second},
		StatusReportInterval: 2 * time.Second,
		DisconnectGrace:      time.Second,
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

func createSatellite(ctx context.Context, ns, name string) *testutil.Satellite {
	return testutil.CreateSatellite(ctx, k8sClient, &v1alpha1.Satellite{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1"},
	})
}

func getSatellite(ctx context.Context, s *testutil.Satellite) *v1alpha1.Satellite {
	return s.Get(ctx, k8sClient)
}

// httpAssignment checks url from the named satellite every interval.
func httpAssignment(ns, name, sat, url string, interval time.Duration) *v1alpha1.HealthCheckAssignment {
	return &v1alpha1.HealthCheckAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.HealthCheckAssignmentSpec{
			System: "payments-api",
			Check: v1alpha1.CheckSpec{
				Type:     v1alpha1.CheckHTTP,
				Interval: &metav1.Duration{Duration: interval},
				Timeout:  &metav1.Duration{Duration: 2 * time.Second},
				HTTP:     &v1alpha1.HTTPCheck{URL: url},
			},
			Satellites: []string{sat},
		},
	}
}

// coreURL is the manager's base URL, as a user sets CHECKSTACK_CORE_URL.
func coreURL(addr string) string { return "http://" + addr }

// testAgent is an agent running in the test process.
type testAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startAgent runs an agent with cfg, its endpoints on a free port, until the spec ends.
func startAgent(name string, cfg agent.Config) *testAgent {
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.Logger = logf.Log.WithName("agent").WithValues("agent", name)
	a, err := agent.New(cfg)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	t := &testAgent{Agent: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		t.err = a.Run(ctx)
		close(t.done)
	}()
	// The spec judges what Run returned; the cleanup only makes sure the agent is gone.
	DeferCleanup(func() { _ = t.stop() })
	return t
}

// stop cancels the agent's context, as SIGTERM does, and returns what Run returned.
func (t *testAgent) stop() error {
	GinkgoHelper()
	t.cancel()
	Eventually(t.done).WithTimeout(30 * time.Second).Should(BeClosed())
	return t.err
}

func (t *testAgent) stats() agent.Stats { return t.Stats() }

// get fetches one of the agent's endpoints and returns its status code and body.
func (t *testAgent) get(path string) (int, string) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := t.Addr(ctx)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.Get("http://" + addr + path)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

// target is the system an http check probes, counting the requests it gets.
type target struct {
	*httptest.Server
	requests atomic.Int64
}

func newTarget() *target {
	t := &target{}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.requests.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	DeferCleanup(t.Close)
	return t
}

// ingested is how many results of the satellite for the assignment the manager ingested (not
// duplicates, not rejected): the sample count of its satellite_check_latency_seconds.
func ingested(ns, assignment, sat string) uint64 {
	GinkgoHelper()
	series, err := controlplane.Metrics("satellite_check_latency_seconds",
		map[string]string{"namespace": ns, "assignment": assignment, "satellite": sat})
	Expect(err).NotTo(HaveOccurred())
	if len(series) == 0 {
		return 0
	}
	return series[0].GetHistogram().GetSampleCount()
}

// proxy forwards TCP connections to the manager and can cut them, as a network partition does.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	open  bool
	conns map[net.Conn]struct{}
}

func newProxy(target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &proxy{ln: ln, target: target, open: true, conns: map[net.Conn]struct{}{}}
	go p.serve()
	DeferCleanup(func() {
		_ = ln.Close()
		p.cut()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if !p.open {
			p.mu.Unlock()
			_ = down.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = down.Close()
			continue
		}
		p.conns[down], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, down)
		go pipe(down, up)
	}
}

// cut drops every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = true
}
