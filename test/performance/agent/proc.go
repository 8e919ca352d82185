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
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. Go cannot ask sysconf
// without cgo; it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// proc is a prober running as a child process in its own process group, so that stopping it
// also stops anything it started.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	once sync.Once
}

// startProc runs path with args and exactly env (nothing is inherited, so that no proxy setting
// or GODEBUG of the caller's shell changes what is measured); its output goes to logPath.
func startProc(name, path string, args, env []string, logPath string) (*proc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	// A non-nil empty Env, unlike nil, passes nothing.
	cmd.Env = append([]string{}, env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Setpgid lets stop signal the whole group; Pdeathsig kills the child if this tool dies
	// without running its cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports an error when the process has ended, which during a phase is a failure.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited early: %v (log: %s)", p.name, p.err, p.log.Name())
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, and SIGKILL when it has not ended within grace. It is
// safe to call more than once.
func (p *proc) stop(grace time.Duration) {
	p.once.Do(func() {
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
		// A child of the group may outlive its leader.
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		_ = p.log.Close()
	})
}

// cpuTime returns the user plus system CPU time of pid so far, over all its threads.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line. The command
// name (field 2) is in parentheses and may hold spaces, so fields are counted after the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	// fields[0] is field 3 (state).
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return 0, errors.New("malformed /proc stat: too few fields")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// rssKiB returns the resident set size of pid (VmRSS), in KiB.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			return strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// rssSampler samples a process's RSS every second until stopped.
type rssSampler struct {
	cancel  context.CancelFunc
	done    chan struct{}
	samples []int64
	err     error
}

func sampleRSS(pid int) *rssSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &rssSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			kib, err := rssKiB(pid)
			if err != nil {
				s.err = err
				return
			}
			s.samples = append(s.samples, kib)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest and the mean sample, in MiB.
func (s *rssSampler) stop() (maxMiB, meanMiB float64, err error) {
	s.cancel()
	<-s.done
	if s.err != nil {
		return 0, 0, fmt.Errorf("sampling RSS: %w", s.err)
	}
	var top, sum int64
	for _, v := range s.samples {
		top = max(top, v)
		sum += v
	}
	if len(s.samples) == 0 {
		return 0, 0, errors.New("no RSS sample")
	}
	return float64(top) / 1024, float64(sum) / float64(len(s.samples)) / 1024, nil
}

// machineCPU is the aggregate line of /proc/stat: busy and total jiffies of all CPUs, to show
// how contended the shared machine was during a window.
type machineCPU struct{ busy, total int64 }

func readMachineCPU() (machineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return machineCPU{}, errors.New("malformed /proc/stat")
	}
	var m machineCPU
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("malformed /proc/stat: %w", err)
		}
		// guest and guest_nice (fields 9 and 10) are already counted in user and nice.
		if i >= 8 {
			break
		}
		m.total += v
		// idle (3) and iowait (4) are not busy.
		if i != 3 && i != 4 {
			m.busy += v
		}
	}
	return m, nil
}

// busyPercent returns how busy all CPUs were between m and later, in percent.
func (m machineCPU) busyPercent(later machineCPU) float64 {
	if later.total == m.total {
		return 0
	}
	return 100 * float64(later.busy-m.busy) / float64(later.total-m.total)
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	fields := strings.Fields(string(data))
	return strings.Join(fields[:min(len(fields), 3)], " ")
}

// freeAddr returns a loopback address with a port free at the time of the call, for a child
// process that must be told its port before it starts.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
