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
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LoadAvg returns the first three fields of /proc/loadavg.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	fields := strings.Fields(string(data))
	return strings.Join(fields[:min(len(fields), 3)], " ")
}

// MemTotalGiB returns MemTotal of /proc/meminfo in GiB, or 0 when it cannot be read.
func MemTotalGiB() float64 {
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

// MachineCPU is the aggregate line of /proc/stat: busy and total jiffies of all CPUs, to show
// how contended the shared machine was during a window.
type MachineCPU struct{ busy, total int64 }

// ReadMachineCPU reads the aggregate line of /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return MachineCPU{}, errors.New("malformed /proc/stat")
	}
	var m MachineCPU
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return MachineCPU{}, fmt.Errorf("malformed /proc/stat: %w", err)
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

// BusyPercent returns how busy all CPUs were between m and later, in percent.
func (m MachineCPU) BusyPercent(later MachineCPU) float64 {
	if later.total == m.total {
		return 0
	}
	return 100 * float64(later.busy-m.busy) / float64(later.total-m.total)
}
