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

package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/internal/controlplane"
)

// HelmVersion is the helm the suite builds from the Go module proxy when bin/ lacks it.
const helmVersion = "v3.22.0"

var (
	root       string // the repository
	bin        string // built binaries of this run
	helm       string
	kubeconfig string
	env        *envtest.Environment
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "End-to-end Suite")
}

var _ = BeforeSuite(func() {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(500 * time.Millisecond)

	var err error
	root, err = controlplane.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	bin = GinkgoT().TempDir()
	By("building the manager and the agent")
	run(root, "go", "build", "-o", filepath.Join(bin, "manager"), "./cmd/manager")
	run(root, "go", "build", "-o", filepath.Join(bin, "satellite"), "./cmd/satellite")
	helm = filepath.Join(root, "bin", "helm-"+helmVersion)
	if _, err := os.Stat(helm); err != nil {
		By("building helm " + helmVersion)
		run(root, "make", helm)
	}

	By("starting a control plane with no CRDs: the chart installs them")
	assets, err := controlplane.AssetsDir()
	Expect(err).NotTo(HaveOccurred())
	env = &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	admin, err := env.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, cfg)
	Expect(err).NotTo(HaveOccurred())
	raw, err := admin.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(bin, "kubeconfig")
	Expect(os.WriteFile(kubeconfig, raw, 0o600)).To(Succeed())
})

var _ = AfterSuite(func() {
	for _, p := range started {
		p.stop()
	}
	for _, s := range services {
		_ = s.ln.Close()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// run runs a command in dir and returns its standard output; it fails the spec on error.
func run(dir, name string, args ...string) string {
	GinkgoHelper()
	out, err := tryRun(dir, name, args...)
	Expect(err).NotTo(HaveOccurred(), "%s %s:\n%s", name, strings.Join(args, " "), out)
	return out
}

// runEnv is run with more environment variables.
func runEnv(dir string, env []string, name string, args ...string) string {
	GinkgoHelper()
	out, err := tryRunEnv(dir, env, name, args...)
	Expect(err).NotTo(HaveOccurred(), "%s %s:\n%s", name, strings.Join(args, " "), out)
	return out
}

func tryRun(dir, name string, args ...string) (string, error) {
	return tryRunEnv(dir, nil, name, args...)
}

func tryRunEnv(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if err != nil {
		return out.String() + stderr.String(), err
	}
	return out.String(), nil
}

func kubectl(args ...string) string {
	GinkgoHelper()
	return run(root, "kubectl", args...)
}

// jsonpath reads one field of an object with kubectl, "" when it does not exist (yet).
func jsonpath(resource, path string, more ...string) func() string {
	return func() string {
		args := append([]string{"get", resource, "-o", "jsonpath={" + path + "}"}, more...)
		out, err := tryRun(root, "kubectl", args...)
		if err != nil {
			return ""
		}
		return out
	}
}

// readyz GETs a manager's /readyz on its probe port and returns the status code, or 0 while it
// does not answer.
func readyz(probePort int) int {
	resp, err := http.Get("http://" + addr(probePort) + "/readyz") //nolint:noctx // a test's short GET
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// freePort returns a loopback port that nothing listens on right now.
func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	// started are the processes of the suite; runningAgents the agents among them, newest last.
	started, runningAgents []*process
	// services are the suite's stand-ins for a Service.
	services []*tcpService
)

func decodeBase64(s string) string {
	GinkgoHelper()
	b, err := base64.StdEncoding.DecodeString(s)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// process is a binary of ours running for the test, its output in the Ginkgo log.
type process struct {
	name string
	cmd  *exec.Cmd
	// done is closed when the process has exited.
	done chan struct{}
}

func start(name string, env []string, args ...string) *process {
	GinkgoHelper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if name == "satellite" {
		runningAgents = append(runningAgents, p)
	}
	// Processes live across the ordered specs; AfterSuite stops them.
	started = append(started, p)
	return p
}

// kill ends the process without letting it say goodbye, as a crash or a lost node would.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// getMetrics GETs the manager's HTTPS /metrics with the bearer token (none when empty) and
// returns the status code and the body, waiting for the manager's metrics server to answer: it
// starts with the other runnables.
func getMetrics(url, token string) (code int, body string) {
	GinkgoHelper()
	Eventually(func() (err error) {
		code, body, err = tryGetMetrics(url, token)
		return err
	}).Should(Succeed())
	return code, body
}

// tryGetMetrics is one GET of getMetrics. The certificate is the manager's self-signed one: what
// is tested here is who may read, not whom the client trusts.
func tryGetMetrics(url, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's self-signed certificate
	}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, string(body), err
}

// serviceAccountKubeconfig writes a kubeconfig for the suite's cluster that authenticates as the
// ServiceAccount with a fresh token, and returns its path: a process run with it has exactly
// that ServiceAccount's permissions.
func serviceAccountKubeconfig(namespace, name string) string {
	GinkgoHelper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	token := strings.TrimSpace(kubectl("create", "token", name, "-n", namespace, "--duration=2h"))
	user := "system:serviceaccount:" + namespace + ":" + name
	cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{user: {Token: token}}
	for _, c := range cfg.Contexts {
		c.AuthInfo = user
	}
	path := filepath.Join(bin, "kubeconfig-"+namespace+"-"+name)
	Expect(clientcmd.WriteToFile(*cfg, path)).To(Succeed())
	return path
}

// canIList is `kubectl auth can-i --list` as user in namespace, each line's trailing blanks cut.
func canIList(user, namespace string) string {
	GinkgoHelper()
	return trimLines(kubectl("auth", "can-i", "--list", "--as="+user, "-n", namespace))
}

// documentedPermissions is the can-i listing that docs/security.md documents, between its
// can-i-begin and can-i-end markers.
func documentedPermissions() string {
	GinkgoHelper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	Expect(err).NotTo(HaveOccurred())
	_, rest, ok := strings.Cut(string(doc), "<!-- can-i-begin -->")
	Expect(ok).To(BeTrue(), "docs/security.md has no <!-- can-i-begin --> marker")
	block, _, ok := strings.Cut(rest, "<!-- can-i-end -->")
	Expect(ok).To(BeTrue(), "docs/security.md has no <!-- can-i-end --> marker")
	block = strings.TrimSpace(block)
	block = strings.TrimPrefix(block, "```text")
	block = strings.TrimSuffix(block, "```")
	return trimLines(block)
}

func trimLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// agentMetric reads the agent's plain /metrics on port and returns the sum of the samples of
// the metric called name. Polled, it takes Eventually's Gomega, so that a read that fails while
// the agent reconnects is tried again; read once, it takes Default.
func agentMetric(g Gomega, port int, name string) float64 {
	GinkgoHelper()
	resp, err := http.Get("http://" + addr(port) + "/metrics") //nolint:noctx // a local test server
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	g.Expect(err).NotTo(HaveOccurred())
	sum := 0.0
	for line := range strings.Lines(string(body)) {
		fields := strings.Fields(line)
		if len(fields) != 2 || (fields[0] != name && !strings.HasPrefix(fields[0], name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		g.Expect(err).NotTo(HaveOccurred())
		sum += v
	}
	return sum
}

// replica is a manager process and its hub and probe ports.
type replica struct {
	proc        *process
	hub, probes int
}

// tcpService forwards each TCP connection to one of its endpoints in turn, as a Service sends
// connections to its Ready Pods: the specs set the endpoints as replicas start and die.
type tcpService struct {
	ln net.Listener

	mu        sync.Mutex
	endpoints []string
	next      int
}

func startService(endpoints ...string) *tcpService {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	s := &tcpService{ln: ln, endpoints: endpoints}
	// It lives across the ordered specs, as the processes do; AfterSuite closes it.
	services = append(services, s)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			go s.forward(c)
		}
	}()
	return s
}

func (s *tcpService) addr() string { return s.ln.Addr().String() }

func (s *tcpService) setEndpoints(endpoints ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints = endpoints
}

// forward copies between c and the next endpoint until either side closes.
func (s *tcpService) forward(c net.Conn) {
	defer func() { _ = c.Close() }()
	s.mu.Lock()
	endpoint := s.endpoints[s.next%len(s.endpoints)]
	s.next++
	s.mu.Unlock()
	backend, err := net.Dial("tcp", endpoint)
	if err != nil {
		return
	}
	defer func() { _ = backend.Close() }()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(backend, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, backend); done <- struct{}{} }()
	<-done
}
