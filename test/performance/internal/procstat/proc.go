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
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports. Go cannot ask sysconf without cgo.
const userHZ = 100

// CPUTime returns the user plus system CPU time of pid so far, over all its threads.
func CPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// statFields splits a /proc/<pid>/stat line into the command (field 2) and the fields after it,
// fields[0] being field 3 (state). The command is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted after the last ')'.
func statFields(stat []byte) (comm string, fields []string, err error) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", nil, errors.New("malformed /proc stat: no command in parentheses")
	}
	return string(stat[open+1 : end]), strings.Fields(string(stat[end+1:])), nil
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc/<pid>/stat line.
func parseStatCPU(stat []byte) (time.Duration, error) {
	_, fields, err := statFields(stat)
	if err != nil {
		return 0, err
	}
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
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatPPID reads the command (field 2) and ppid (field 4) of a /proc/<pid>/stat line.
func parseStatPPID(stat []byte) (comm string, ppid int, err error) {
	comm, fields, err := statFields(stat)
	if err != nil {
		return "", 0, err
	}
	if len(fields) < 2 {
		return "", 0, errors.New("malformed /proc stat: too few fields")
	}
	ppid, err = strconv.Atoi(fields[1])
	return comm, ppid, err
}

// ChildrenNamed returns the pids of this process's children whose command is one of names: the
// kube-apiserver and etcd that envtest started, whose pids it does not expose.
func ChildrenNamed(names ...string) map[string]int {
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

// statusKiB returns a field of /proc/<pid>/status given in kB, such as VmRSS, in KiB.
func statusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	return parseStatusKiB(f, field)
}

// parseStatusKiB reads the value of field from "Field: value kB" lines, as in /proc/<pid>/status
// and /proc/meminfo.
func parseStatusKiB(r io.Reader, field string) (int64, error) {
	sc := bufio.NewScanner(r)
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

// rssKiB returns the resident set size of pid (VmRSS), in KiB.
func rssKiB(pid int) (int64, error) { return statusKiB(pid, "VmRSS") }

// RSSSampler samples a process's RSS every second until it is stopped. A single reading would
// catch the garbage collector at one point of its cycle.
type RSSSampler struct {
	cancel  context.CancelFunc
	done    chan struct{}
	samples []int64
	err     error
}

// SampleRSS starts sampling pid's RSS; the first sample is taken at once.
func SampleRSS(pid int) *RSSSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &RSSSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.samples, s.err = sampleRSS(pid, ctx.Done(), time.Time{})
	}()
	return s
}

// Stop ends the sampling and returns the largest and the mean sample, in KiB.
func (s *RSSSampler) Stop() (maxKiB int64, meanKiB float64, err error) {
	s.cancel()
	<-s.done
	if s.err != nil {
		return 0, 0, fmt.Errorf("sampling RSS: %w", s.err)
	}
	if len(s.samples) == 0 {
		return 0, 0, errors.New("no RSS sample")
	}
	var sum int64
	for _, v := range s.samples {
		maxKiB = max(maxKiB, v)
		sum += v
	}
	return maxKiB, float64(sum) / float64(len(s.samples)), nil
}

// MeanRSSKiB samples pid's RSS every second for d and returns the mean, in KiB.
func MeanRSSKiB(pid int, d time.Duration) (int64, error) {
	samples, err := sampleRSS(pid, nil, time.Now().Add(d))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, v := range samples {
		sum += v
	}
	return sum / int64(len(samples)), nil
}

// sampleRSS reads pid's RSS at once and then every second, until stop is closed or, when deadline
// is set, a reading is taken at or after it. A failed reading ends it with the error.
func sampleRSS(pid int, stop <-chan struct{}, deadline time.Time) ([]int64, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var samples []int64
	for {
		kib, err := rssKiB(pid)
		if err != nil {
			return samples, err
		}
		samples = append(samples, kib)
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return samples, nil
		}
		select {
		case <-stop:
			return samples, nil
		case <-tick.C:
		}
	}
}

// OpenFilesLimit returns the "Max open files" line of /proc/<pid>/limits as soft/hard.
func OpenFilesLimit(pid int) string {
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
