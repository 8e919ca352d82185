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

// Command demo is `make run`: against the kubeconfig's cluster, or with --local against a local
// control plane it starts (the real kube-apiserver and etcd the tests use), it installs the
// CRDs, applies config/samples, and runs the manager and one satellite agent with the sample
// Satellite's token until interrupted.
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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
)

func main() {
	manager := flag.String("manager", "bin/manager", "The manager binary to run.")
	agent := flag.String("agent", "bin/satellite", "The satellite agent binary to run.")
	local := flag.Bool("local", false, "Start a local control plane instead of using the kubeconfig's cluster.")
	kubeconfig := flag.String("kubeconfig-out", "bin/local/kubeconfig", "With --local, where to write the kubeconfig of the local control plane.")
	flag.Parse()
	if err := run(*local, *manager, *agent, *kubeconfig, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// The sample Satellite the local agent stands for, and where the manager serves satellites.
const (
	sampleNamespace = "default"
	sampleSatellite = "eu-west"
	hubAddr         = "127.0.0.1:8090"
	hubURL          = "http://" + hubAddr
	agentAddr       = "127.0.0.1:8082" // the manager's probes use :8081
)

func run(local bool, manager, agent, kubeconfig string, managerArgs []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cfg *rest.Config
	if local {
		env, err := controlplane.New()
		if err != nil {
			return err
		}
		fmt.Println("Starting a local control plane (kube-apiserver and etcd) and installing the CRDs")
		if cfg, err = env.Start(); err != nil {
			return fmt.Errorf("starting the control plane: %w", err)
		}
		defer func() { _ = env.Stop() }()
		if kubeconfig, err = writeKubeconfig(env, cfg, kubeconfig); err != nil {
			return err
		}
	} else {
		var err error
		if cfg, err = ctrl.GetConfig(); err != nil {
			return fmt.Errorf("reading the kubeconfig: %w", err)
		}
		kubeconfig = os.Getenv("KUBECONFIG")
		if err := kubectl(ctx, kubeconfig, "apply", "--server-side", "-k", "config/crd"); err != nil {
			return fmt.Errorf("installing the CRDs: %w", err)
		}
	}
	if err := kubectl(ctx, kubeconfig, "apply", "-k", "config/samples"); err != nil {
		return fmt.Errorf("applying config/samples: %w", err)
	}

	// Every port on loopback only: a demo on a laptop serves nobody else. Arguments given to make
	// run come later and win.
	args := append([]string{
		"--satellite-bind-address=" + hubAddr,
		"--health-probe-bind-address=127.0.0.1:8081",
		"--metrics-bind-address=127.0.0.1:8080",
	}, managerArgs...)
	mgr, err := startProcess(manager, kubeconfigEnv(kubeconfig), args...)
	if err != nil {
		return err
	}
	defer mgr.stop()

	// The manager generates the sample Satellite's token; the agent runs with it.
	c, err := client.New(cfg, client.Options{Scheme: controlplane.Scheme()})
	if err != nil {
		return err
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: sampleNamespace, Name: sampleSatellite + "-token"}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		return c.Get(ctx, key, secret) == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the sample Satellite's token Secret: %w", err)
	}
	tokenFile := filepath.Join("bin", "local", sampleSatellite+".token")
	if err := os.MkdirAll(filepath.Dir(tokenFile), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, secret.Data[v1alpha1.SecretKeyToken], 0o600); err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}
	sat, err := startProcess(agent, []string{
		"CHECKSTACK_CORE_URL=" + hubURL,
		"CHECKSTACK_SATELLITE_CLIENT_ID=" + string(secret.Data[v1alpha1.SecretKeyClientID]),
	}, "--token-file", tokenFile, "--metrics-bind-address", agentAddr)
	if err != nil {
		return err
	}
	defer sat.stop()

	fmt.Print("\nThe manager and one satellite agent are running. In another shell:\n\n")
	if local {
		fmt.Printf("    export KUBECONFIG=%s\n", kubeconfig)
	}
	fmt.Print(`    kubectl get sat,hca
    kubectl get events

Within a minute the satellite eu-west is Online and the assignment manager-healthz Healthy.
The manager's /metrics is https://127.0.0.1:8080/metrics, for a ServiceAccount token allowed to
get it (docs/troubleshooting.md#where-the-metrics-are). Stop with Ctrl-C.

`)

	select {
	case err := <-mgr.done:
		return fmt.Errorf("the manager exited: %w", err)
	case err := <-sat.done:
		return fmt.Errorf("the satellite agent exited: %w", err)
	case <-ctx.Done():
		return nil
	}
}

// process is a child process and the result of its Wait.
type process struct {
	cmd  *exec.Cmd
	done chan error
}

func startProcess(path string, env []string, args ...string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// stop asks the process to end, waits for it and says how it ended if not cleanly.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		err = <-p.done
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %s: %v\n", p.cmd.Path, err)
	}
}

// writeKubeconfig writes an admin kubeconfig of the local control plane and returns its path.
func writeKubeconfig(env *envtest.Environment, cfg *rest.Config, path string) (string, error) {
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, cfg)
	if err != nil {
		return "", fmt.Errorf("adding the admin user: %w", err)
	}
	raw, err := admin.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("building the kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return "", fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return filepath.Abs(path)
}

// kubeconfigEnv points a child process at the kubeconfig, or leaves it to the default one.
func kubeconfigEnv(kubeconfig string) []string {
	if kubeconfig == "" {
		return nil
	}
	return []string{"KUBECONFIG=" + kubeconfig}
}

func kubectl(ctx context.Context, kubeconfig string, args ...string) error {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), kubeconfigEnv(kubeconfig)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
