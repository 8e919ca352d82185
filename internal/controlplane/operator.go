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

package controlplane

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/checkstack/satellite-operator/internal/operator"
)

// Running is a control plane with the operator's manager running against it, for the suites
// that test the reconcilers and the hub together. Its manager's Operator and HubAddr are the
// embedded Replica's.
type Running struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
	*Replica

	cfg operator.Config
}

// StartOperator starts a control plane and the manager with cfg. The hub listens on a free
// loopback port unless cfg says otherwise.
func StartOperator(cfg operator.Config) (*Running, error) {
	env, err := New()
	if err != nil {
		return nil, err
	}
	restCfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	r := &Running{Env: env, Config: restCfg}
	if err := r.start(cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return r, nil
}

func (r *Running) start(cfg operator.Config) error {
	scheme := Scheme()
	var err error
	if r.Client, err = client.New(r.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	r.cfg = cfg
	m, err := startManager(r.Config, cfg)
	if err != nil {
		return err
	}
	r.Replica = m
	return nil
}

// Replica is one more manager against a Running control plane, as another pod of the
// Deployment would be.
type Replica struct {
	Operator *operator.Operator
	// HubAddr is host:port of the replica's satellites' endpoint.
	HubAddr string

	cancel  context.CancelFunc
	stopped chan error
}

// StartReplica starts another manager with cfg against the control plane; the hub listens on a
// free loopback port unless cfg says otherwise.
func (r *Running) StartReplica(cfg operator.Config) (*Replica, error) {
	return startManager(r.Config, cfg)
}

// Stop stops the replica's manager; stopping it again returns the same result.
func (m *Replica) Stop() error {
	m.cancel()
	err := <-m.stopped
	m.stopped <- err
	return err
}

// ManagerRunning reports whether the manager still runs: a manager whose Start returned has stopped.
func (m *Replica) ManagerRunning() bool {
	select {
	case err := <-m.stopped:
		m.stopped <- err
		return false
	default:
		return true
	}
}

func startManager(restCfg *rest.Config, cfg operator.Config) (*Replica, error) {
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  operator.CacheOptions(cfg.Namespaces),
		// Restart and StartReplica run more managers in this process, with the same controller
		// names.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	if cfg.Hub.Addr == "" {
		cfg.Hub.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Replica{cancel: cancel, stopped: make(chan error, 1)}
	if m.Operator, err = operator.Setup(ctx, mgr, cfg); err != nil {
		cancel()
		return nil, err
	}
	go func() { m.stopped <- mgr.Start(ctx) }()
	waitCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	if m.HubAddr, err = m.Operator.Hub.Addr(waitCtx); err != nil {
		cancel()
		return nil, fmt.Errorf("waiting for the hub to listen: %w", err)
	}
	return m, nil
}

// Restart stops the manager, waits for pause with the control plane up and no manager, and
// starts a new manager whose hub listens on the same address, as after a crash or an upgrade.
func (r *Running) Restart(pause time.Duration) error {
	if err := r.Replica.Stop(); err != nil {
		return fmt.Errorf("stopping the manager: %w", err)
	}
	time.Sleep(pause)
	cfg := r.cfg
	cfg.Hub.Addr = r.HubAddr
	return r.start(cfg)
}

// Stop stops the manager and the control plane.
func (r *Running) Stop() error {
	mgrErr := r.Replica.Stop()
	if err := r.Env.Stop(); err != nil {
		return err
	}
	return mgrErr
}
