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

package fleet

import (
	"k8s.io/apimachinery/pkg/types"
)

// WakeAll wakes the reconcilers for the Satellites and assignments given, which are what the
// cache holds, and for every one the fleet holds: a new term's reconcilers start from
// everything, and the reconcile of one deleted while this replica did not lead forgets it.
// Keys may repeat; the workqueue folds them. It blocks while the reconcilers' wake-up buffers
// are full, so a new term calls it on a goroutine of its own.
func (f *Fleet) WakeAll(satellites, assignments []types.NamespacedName) {
	fx := effects{wakeSat: satellites, wakeHCA: assignments}
	f.mu.Lock()
	for _, sat := range f.satellites {
		fx.wakeSat = append(fx.wakeSat, sat.key)
	}
	for _, a := range f.assignments {
		fx.wakeHCA = append(fx.wakeHCA, a.Key)
	}
	f.mu.Unlock()
	f.run(&fx)
}
