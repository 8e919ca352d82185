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
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ), 100 on every Linux
// architecture Go supports; Go cannot ask sysconf without cgo.
const userHZ = 100

// child is a process this tool started, in its own process group so that stopping it stops what
// it started too.
type child struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	once sync.Once
}

// startChild runs path with args and env; stdout and stderr go to logPath unless cmd's are set
// by prepare.
func startChild(name, path string, args, env []string, logPath string, prepare func(*exec.Cmd) error) (*child, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	// Exactly env: nothing of the caller's shell (a proxy, GODEBUG) changes what is measured.
	cmd.Env = append([]string{}, env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Pdeathsig kills the child when this tool dies without its cleanup (a SIGKILL, a panic in
	// another goroutine), so nothing outlives a run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if prepare != nil {
		if err := prepare(cmd); err != nil {
			_ = log.Close()
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// exited returns an error once the process has ended: while it is being measured, that is a
// failure.
func (c *child) exited() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited: %v (log %s)", c.name, c.err, c.log.Name())
	default:
		return nil
	}
}

// stop sends SIGTERM to the group and SIGKILL after grace; safe to call more than once.
func (c *child) stop(grace time.Duration) {
	c.once.Do(func() {
		_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(grace):
			_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
			<-c.done
		}
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		_ = c.log.Close()
	})
}

// kill sends SIGKILL to the group at once and waits for the process, as a crash would end it.
func (c *child) kill() {
	c.once.Do(func() {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
		_ = c.log.Close()
	})
}

// procCPU returns utime+stime of pid, all threads.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU reads fields 14 and 15 (utime, stime) of a /proc/<pid>/stat line. Field 2, the
// command, is in parentheses and may hold spaces, so the count starts after the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3.
	if len(f) < 13 {
		return 0, errors.New("malformed /proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatPPID reads field 4 (ppid) of a /proc/<pid>/stat line, and the command of field 2.
func parseStatPPID(stat []byte) (comm string, ppid int, err error) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 2 {
		return "", 0, errors.New("malformed /proc stat: too few fields")
	}
	ppid, err = strconv.Atoi(f[1])
	return string(stat[open+1 : end]), ppid, err
}

// childrenNamed returns the pids of this process's children whose command is one of names: the
// kube-apiserver and etcd that envtest started, whose pids it does not expose.
func childrenNamed(names ...string) map[string]int {
	out := map[string]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		comm, ppid, err := parseStatPPID(data)
		if err != nil || ppid != os.Getpid() {
			continue
		}
		for _, n := range names {
			if comm == n {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
				out[n] = pid
			}
		}
	}
	return out
}

// statusKiB returns a "Vm...:" or similar field of /proc/<pid>/status, in KiB.
func statusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	return parseStatusKiB(f, field)
}

func parseStatusKiB(f interface{ Read([]byte) (int, error) }, field string) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v := strings.Fields(rest)
			if len(v) == 0 {
				break
			}
			return strconv.ParseInt(v[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// rssKiB is VmRSS of pid.
func rssKiB(pid int) (int64, error) { return statusKiB(pid, "VmRSS") }

// sampleRSS samples pid's RSS every second for d and returns the mean, in KiB; a single reading
// would catch the garbage collector at one point of its cycle.
func sampleRSS(pid int, d time.Duration) (int64, error) {
	var sum, n int64
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		v, err := rssKiB(pid)
		if err != nil {
			return 0, err
		}
		sum += v
		n++
		if !time.Now().Before(deadline) {
			return sum / n, nil
		}
		<-tick.C
	}
}

// openFilesLimit returns the "Max open files" line of /proc/<pid>/limits: soft and hard.
func openFilesLimit(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0] + "/" + f[1]
			}
		}
	}
	return "unknown"
}

// raiseNoFile sets RLIMIT_NOFILE's soft limit to its hard limit and says what it set: N=10,000
// needs about 10,000 descriptors in the manager and as many in the swarm.
func raiseNoFile() string {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return "getrlimit: " + err.Error()
	}
	before := l.Cur
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Sprintf("RLIMIT_NOFILE soft %d hard %d; raising failed: %v", before, l.Max, err)
	}
	return fmt.Sprintf("RLIMIT_NOFILE soft %d -> %d (hard %d)", before, l.Cur, l.Max)
}

// freePort returns a loopback address whose port was free when asked, for a child process that
// must be told its port before it starts.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

// memTotal is MemTotal of /proc/meminfo, in GiB.
func memTotalGiB() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	kib, err := parseStatusKiB(f, "MemTotal")
	if err != nil {
		return 0
	}
	return float64(kib) / (1 << 20)
}
