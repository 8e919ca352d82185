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

package procstat

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec is a child process to start.
type Spec struct {
	// Name names the process in errors.
	Name string
	// Path is the program; Args are its arguments.
	Path string
	Args []string
	// Env is the child's whole environment. Nothing of the caller's is inherited, so that no
	// proxy setting or GODEBUG of the caller's shell changes what is measured.
	Env []string
	// Log is the file that gets the child's stdout and stderr, unless Prepare sets them.
	Log string
	// AppendLog appends to Log instead of truncating it, so that a process started again on the
	// same log (the manager after a kill) keeps what its first run wrote.
	AppendLog bool
	// Prepare, when set, may change the command before it starts: its stdin and stdout, say.
	Prepare func(*exec.Cmd) error
}

// Child is a process started by Start, in its own process group so that stopping it also stops
// anything it started.
type Child struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	once sync.Once
}

// Start starts the process s describes; it does not wait for it to serve.
func Start(s Spec) (*Child, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if s.AppendLog {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	log, err := os.OpenFile(s.Log, flags, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.Path, s.Args...)
	// A non-nil empty Env, unlike nil, passes nothing.
	cmd.Env = append([]string{}, s.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Setpgid lets Stop signal the whole group. Pdeathsig kills the child when the tool dies
	// without its cleanup (a SIGKILL, a panic in another goroutine), so nothing outlives a run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if s.Prepare != nil {
		if err := s.Prepare(cmd); err != nil {
			_ = log.Close()
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", s.Name, err)
	}
	c := &Child{name: s.Name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Name is the Spec's Name.
func (c *Child) Name() string { return c.name }

// Pid is the process's id, which is also its process group's.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Done is closed once the process has ended and been waited for.
func (c *Child) Done() <-chan struct{} { return c.done }

// Exited returns an error once the process has ended: while it is being measured, that is a
// failure.
func (c *Child) Exited() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited: %v (log %s)", c.name, c.err, c.log.Name())
	default:
		return nil
	}
}

// Stop sends SIGTERM to the process group, and SIGKILL when the process has not ended within
// grace. It is safe to call more than once, and after Kill.
func (c *Child) Stop(grace time.Duration) {
	c.once.Do(func() {
		_ = syscall.Kill(-c.Pid(), syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
			<-c.done
		}
		// A child of the group may outlive its leader.
		_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
		_ = c.log.Close()
	})
}

// Kill sends SIGKILL to the process group at once and waits for the process, as a crash would
// end it.
func (c *Child) Kill() {
	c.once.Do(func() {
		_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
		<-c.done
		_ = c.log.Close()
	})
}

// FreeAddr returns a loopback address whose port was free when asked, for a child process that
// must be told its port before it starts.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
