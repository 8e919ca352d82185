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
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"k8s.io/client-go/rest"
)

// PauseAPIServer stops the kube-apiserver that cfg talks to, a process of this machine, with
// SIGSTOP: an outage in which its port still accepts connections but nothing answers, as a
// stalled or partitioned API server looks to its clients; etcd runs on. resume sends SIGCONT. A
// restart would not do: envtest issues new certificates on every start.
func PauseAPIServer(cfg *rest.Config) (resume func() error, err error) {
	pid, err := apiServerPID(cfg.Host)
	if err != nil {
		return nil, err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("stopping kube-apiserver (pid %d): %w", pid, err)
	}
	return func() error { return syscall.Kill(pid, syscall.SIGCONT) }, nil
}

// apiServerPID finds the kube-apiserver that serves host by the --secure-port it serves on.
func apiServerPID(host string) (int, error) {
	u, err := url.Parse(host)
	if err != nil || u.Port() == "" {
		return 0, fmt.Errorf("the control plane's address %q names no port", host)
	}
	flag := []byte("--secure-port=" + u.Port())
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return 0, err
	}
	for _, path := range cmdlines {
		cmdline, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) == 0 || filepath.Base(string(args[0])) != "kube-apiserver" {
			continue
		}
		for _, arg := range args[1:] {
			if bytes.Equal(arg, flag) {
				return strconv.Atoi(filepath.Base(filepath.Dir(path)))
			}
		}
	}
	return 0, fmt.Errorf("no kube-apiserver process serves port %s", u.Port())
}
