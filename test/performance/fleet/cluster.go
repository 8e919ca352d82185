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

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/test/performance/internal/procstat"
)

// managerUser is the identity the manager's kubeconfig carries, so that the audit log tells its
// writes from the benchmark's own.
const managerUser = "satellite-operator"

// auditPolicy records every write at Metadata level, after the response: who wrote which
// resource and subresource, with no bodies.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// cluster is a real kube-apiserver and etcd with the project's CRDs and an audit log.
type cluster struct {
	env        *envtest.Environment
	cfg        *rest.Config
	client     client.Client
	kubeconfig string
	audit      *auditLog
}

func startCluster(dir string) (*cluster, error) {
	env, err := controlplane.New()
	if err != nil {
		return nil, err
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, err
	}
	auditPath := filepath.Join(dir, "audit.log")
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-log-path", auditPath).
		Set("audit-policy-file", policy).
		// The log backend rotates at 100 MB unless told otherwise, which a run at N=10,000
		// passes; the counts read the one file by offset.
		Set("audit-log-maxsize", "1000000")
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	c := &cluster{env: env, audit: &auditLog{path: auditPath}}
	if err := c.setup(dir, cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) setup(dir string, cfg *rest.Config) error {
	// The benchmark creates thousands of objects; the client's default 5 requests a second would
	// make the setup, not the manager, the slowest part.
	c.cfg = rest.CopyConfig(cfg)
	c.cfg.QPS, c.cfg.Burst = 5000, 10000
	var err error
	if c.client, err = client.New(c.cfg, client.Options{Scheme: controlplane.Scheme()}); err != nil {
		return err
	}
	user, err := c.env.AddUser(envtest.User{Name: managerUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the manager's user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	c.kubeconfig = filepath.Join(dir, "manager.kubeconfig")
	return os.WriteFile(c.kubeconfig, kc, 0o600)
}

func (c *cluster) stop() error { return c.env.Stop() }

// buildManager builds ./cmd/manager of the working tree into dir.
func buildManager(ctx context.Context, dir string) (string, error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building cmd/manager: %w", err)
	}
	return bin, nil
}

// manager is the operator's manager running as its own process.
type manager struct {
	bin, kubeconfig, logPath string
	hubAddr, metricsAddr     string
	probeAddr                string
	leaderElect              bool
	extra                    []string
	proc                     *procstat.Child
}

func newManager(bin, kubeconfig, logPath string, leaderElect bool, extra []string) (*manager, error) {
	m := &manager{bin: bin, kubeconfig: kubeconfig, logPath: logPath, leaderElect: leaderElect, extra: extra}
	for _, p := range []*string{&m.hubAddr, &m.metricsAddr, &m.probeAddr} {
		addr, err := procstat.FreeAddr()
		if err != nil {
			return nil, err
		}
		*p = addr
	}
	return m, nil
}

// args are every flag the manager is started with; the report lists them.
func (m *manager) args() []string {
	args := []string{fmt.Sprintf("--leader-elect=%t", m.leaderElect)}
	if m.leaderElect {
		args = append(args, "--leader-election-namespace=default")
	}
	return append(append(args,
		"--satellite-bind-address="+m.hubAddr,
		"--metrics-bind-address="+m.metricsAddr,
		"--health-probe-bind-address="+m.probeAddr,
	), m.extra...)
}

// start starts the process; it does not wait for it to serve.
func (m *manager) start() error {
	env := []string{"KUBECONFIG=" + m.kubeconfig, "HOME=" + filepath.Dir(m.kubeconfig)}
	// A restarted manager appends to the log of its first run.
	p, err := procstat.Start(procstat.Spec{Name: "manager", Path: m.bin, Args: m.args(), Env: env, Log: m.logPath, AppendLog: true})
	if err != nil {
		return err
	}
	m.proc = p
	return nil
}

// waitReady waits until /readyz answers 200 and the satellites' port accepts connections.
func (m *manager) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: time.Second}
	for {
		if err := m.proc.Exited(); err != nil {
			return err
		}
		if resp, err := hc.Get("http://" + m.probeAddr + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if conn, err := net.DialTimeout("tcp", m.hubAddr, time.Second); err == nil {
					_ = conn.Close()
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the manager was not ready within %s (log %s)", limit, m.logPath)
		case <-tick.C:
		}
	}
}
