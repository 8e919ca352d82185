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

// Command localcluster is `make run` on a machine with no cluster: it starts a local control
// plane (the real kube-apiserver and etcd the tests use), installs the CRDs, writes a kubeconfig,
// applies config/samples and runs the manager against it until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/internal/controlplane"
)

func main() {
	manager := flag.String("manager", "bin/manager", "The manager binary to run.")
	kubeconfig := flag.String("kubeconfig-out", "bin/local/kubeconfig", "Where to write the kubeconfig of the local control plane.")
	flag.Parse()
	if err := run(*manager, *kubeconfig, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(manager, kubeconfig string, managerArgs []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env, err := controlplane.New()
	if err != nil {
		return err
	}
	fmt.Println("Starting a local control plane (kube-apiserver and etcd) and installing the CRDs")
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()

	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		return fmt.Errorf("adding the admin user: %w", err)
	}
	raw, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("building the kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(kubeconfig), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	kubeconfig, err = filepath.Abs(kubeconfig)
	if err != nil {
		return err
	}

	apply := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "apply", "-k", "config/samples")
	apply.Stdout, apply.Stderr = os.Stdout, os.Stderr
	if err := apply.Run(); err != nil {
		return fmt.Errorf("applying config/samples with kubectl: %w", err)
	}

	fmt.Printf(`
The local control plane is up. In another shell:

    export KUBECONFIG=%s
    kubectl get sat
    kubectl get events

Stop with Ctrl-C.

`, kubeconfig)

	cmd := exec.Command(manager, managerArgs...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the manager: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("the manager exited: %w", err)
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			return fmt.Errorf("stopping the manager: %w", err)
		}
		return nil
	}
}
