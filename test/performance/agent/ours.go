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
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/agent"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/operator"
	"github.com/checkstack/satellite-operator/test/performance/internal/procstat"
)

// satelliteName is the Satellite the benchmark's agent runs as.
const satelliteName = "bench"

// buildAgent builds cmd/satellite into dir, as a user's binary would be built.
func buildAgent(ctx context.Context, dir string) (string, error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "satellite")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/satellite")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building cmd/satellite: %w", err)
	}
	return bin, nil
}

// startManager starts the control plane and the whole manager in this process; its logs go to
// logw, so that they do not mix with the table.
func startManager(logw io.Writer) (*controlplane.Running, error) {
	log := zap.New(zap.WriteTo(logw))
	logf.SetLogger(log)
	klog.SetLogger(log)
	return controlplane.StartOperator(operator.Config{})
}

// newClient returns a client of the control plane without client-side rate limiting: the
// default of 5 requests a second would take minutes to create the assignments.
func newClient(cfg *rest.Config) (client.Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	return client.New(cfg, client.Options{Scheme: controlplane.Scheme()})
}

// credentials are what a user hands the agent of a Satellite.
type credentials struct {
	namespace, clientID, token string
}

// createSatellite creates a namespace and a Satellite in it, and returns the satellite's
// credentials once the manager accepts them.
func createSatellite(ctx context.Context, c client.Client) (credentials, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-agent-"}}
	if err := c.Create(ctx, ns); err != nil {
		return credentials{}, fmt.Errorf("creating the namespace: %w", err)
	}
	sat := &v1alpha1.Satellite{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: satelliteName},
		Spec:       v1alpha1.SatelliteSpec{Region: "local"},
	}
	if err := c.Create(ctx, sat); err != nil {
		return credentials{}, fmt.Errorf("creating the Satellite: %w", err)
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: ns.Name, Name: satelliteName + "-token"}
	if err := poll(ctx, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
		err := c.Get(ctx, key, secret)
		return err == nil, client.IgnoreNotFound(err)
	}); err != nil {
		return credentials{}, fmt.Errorf("waiting for the token Secret: %w", err)
	}
	// The hub learns the token from the same reconcile that writes the first status.
	if err := poll(ctx, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(sat), sat); err != nil {
			return false, err
		}
		return sat.Status.State == v1alpha1.SatelliteOffline, nil
	}); err != nil {
		return credentials{}, fmt.Errorf("waiting for the Satellite's first status: %w", err)
	}
	return credentials{
		namespace: ns.Name,
		clientID:  string(secret.Data[v1alpha1.SecretKeyClientID]),
		token:     string(secret.Data[v1alpha1.SecretKeyToken]),
	}, nil
}

// createAssignments creates one http HealthCheckAssignment per target path, with a few workers:
// one at a time takes most of a minute on a busy machine.
func createAssignments(ctx context.Context, c client.Client, ns string, t *target, o options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.workers {
		wg.Go(func() {
			for i := range jobs {
				hca := &v1alpha1.HealthCheckAssignment{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("check-%04d", i)},
					Spec: v1alpha1.HealthCheckAssignmentSpec{
						System: "bench",
						Check: v1alpha1.CheckSpec{
							Type:     v1alpha1.CheckHTTP,
							Interval: &metav1.Duration{Duration: o.interval},
							Timeout:  &metav1.Duration{Duration: o.checkTimeout},
							HTTP:     &v1alpha1.HTTPCheck{URL: t.url(i)},
						},
						Satellites: []string{satelliteName},
					},
				}
				if err := c.Create(ctx, hca); err != nil && !apierrors.IsAlreadyExists(err) {
					cancel(fmt.Errorf("creating %s: %w", hca.Name, err))
				}
			}
		})
	}
	for i := range o.targets {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// waitRelayed waits until the manager has reconciled every assignment of ns, and so handed it to
// the hub: an agent that connected earlier would get the rest as hundreds of config_updated
// frames, which is the setup's cost, not the steady state the benchmark measures.
func waitRelayed(ctx context.Context, c client.Client, ns string, n int) error {
	return poll(ctx, 2*time.Minute, time.Second, func() (bool, error) {
		var list v1alpha1.HealthCheckAssignmentList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		done := 0
		for _, hca := range list.Items {
			if hca.Status.ObservedGeneration == hca.Generation && hca.Status.SelectedSatellites == 1 {
				done++
			}
		}
		return done == n, nil
	})
}

// ingested returns how many results of the namespace's satellite the manager has ingested: the
// sample count of its satellite_check_latency_seconds, summed over the assignments.
func ingested(ns string) (float64, error) {
	series, err := controlplane.Metrics("satellite_check_latency_seconds", map[string]string{"namespace": ns})
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, m := range series {
		n += m.GetHistogram().GetSampleCount()
	}
	return float64(n), nil
}

// agentMetric sums the samples of the named metric on the agent's /metrics.
func agentMetric(ctx context.Context, addr, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the agent's /metrics answered %s", resp.Status)
	}
	return sumMetric(io.LimitReader(resp.Body, 4<<20), name)
}

// sumMetric sums the samples of the named metric in the Prometheus text format.
func sumMetric(r io.Reader, name string) (float64, error) {
	var sum float64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", line, err)
		}
		sum += v
	}
	return sum, sc.Err()
}

// runOurs is the agent's phase: the agent runs as its own process against the in-process
// manager until the window has been measured.
func runOurs(ctx context.Context, o options, t *target, bin, coreURL string, cred credentials, logDir string) (phaseResult, error) {
	addr, err := procstat.FreeAddr()
	if err != nil {
		return phaseResult{}, err
	}
	env := []string{
		agent.EnvCoreURL + "=" + coreURL,
		agent.EnvClientID + "=" + cred.clientID,
		agent.EnvToken + "=" + cred.token,
	}
	rec := t.record()
	defer t.pause()
	p, err := procstat.Start(procstat.Spec{Name: "satellite agent", Path: bin, Args: []string{"--metrics-bind-address", addr}, Env: env, Log: filepath.Join(logDir, "agent.log")})
	if err != nil {
		return phaseResult{}, err
	}
	defer p.Stop(10 * time.Second)

	// The warm-up starts once every check is scheduled, as the blackbox phase's starts once the
	// driver has started every target.
	started := time.Now()
	if err := poll(ctx, 60*time.Second, 250*time.Millisecond, func() (bool, error) {
		if err := p.Exited(); err != nil {
			return false, err
		}
		n, err := agentMetric(ctx, addr, "satellite_agent_scheduled_checks")
		return err == nil && int(n) == o.targets, nil
	}); err != nil {
		return phaseResult{}, fmt.Errorf("waiting for the agent to schedule %d checks: %w", o.targets, err)
	}
	fmt.Printf("  agent pid %d scheduled %d checks %.1fs after start\n", p.Pid(), o.targets, time.Since(started).Seconds())

	counters := func() (failed, delivered float64, err error) {
		if failed, err = agentMetric(ctx, addr, "satellite_agent_check_failures_total"); err != nil {
			return 0, 0, err
		}
		delivered, err = ingested(cred.namespace)
		return failed, delivered, err
	}
	r, err := measure(ctx, o, p, rec, counters)
	if err != nil {
		return r, err
	}
	// Results the manager did not ingest are either still in the agent's buffer, dropped from it,
	// or refused by the manager; these say which.
	for _, name := range []string{"satellite_agent_checks_total", "satellite_agent_buffered_results",
		"satellite_agent_dropped_results_total", "satellite_agent_dial_attempts_total"} {
		v, err := agentMetric(ctx, addr, name)
		if err != nil {
			return r, err
		}
		r.notes = append(r.notes, fmt.Sprintf("agent %s %.0f", name, v))
	}
	statuses, err := managerResults()
	if err != nil {
		return r, err
	}
	r.notes = append(r.notes, "manager satellite_results_total "+statuses)
	return r, nil
}

// managerResults returns the manager's satellite_results_total by status, such as
// "healthy=5000 duplicate=0".
func managerResults() (string, error) {
	series, err := controlplane.Metrics("satellite_results_total", nil)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, m := range series {
		for _, l := range m.GetLabel() {
			if l.GetName() == "status" {
				parts = append(parts, fmt.Sprintf("%s=%.0f", l.GetValue(), m.GetCounter().GetValue()))
			}
		}
	}
	if len(parts) == 0 {
		return "none", nil
	}
	return strings.Join(parts, " "), nil
}
