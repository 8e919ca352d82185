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

package operator_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/hub"
	"github.com/checkstack/satellite-operator/internal/leadership"
	"github.com/checkstack/satellite-operator/internal/operator"
)

// The suite runs two managers with leader election, as the chart's two replicas, against a
// real kube-apiserver and etcd, and takes the API server away under them.
var (
	running *controlplane.Running
	standby *controlplane.Replica
	// replicas are both managers: the one Running started, and the standby.
	replicas []replica
	// cfg is what both run with.
	cfg operator.Config
)

// replica is what a spec needs of one manager.
type replica struct {
	op      *operator.Operator
	hubAddr string
}

// leaseName is the test's leader Lease, in namespace default.
const leaseName = "satellite-operator-test"

func TestOperator(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Operator Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)

	cfg = operator.Config{
		Hub:                  hub.Options{HeartbeatInterval: time.Second},
		DisconnectGrace:      time.Second,
		StatusReportInterval: 2 * time.Second,
		// Short enough that a pause of the API server ends a term within seconds; the deadline
		// is still far longer than a renewal takes on a busy machine.
		LeaderElection: &leadership.Options{Namespace: "default", Name: leaseName,
			LeaseDuration: 8 * time.Second, RenewDeadline: 4 * time.Second, RetryPeriod: 500 * time.Millisecond},
	}
	var err error
	running, err = controlplane.StartOperator(cfg)
	Expect(err).NotTo(HaveOccurred())
	standby, err = running.StartReplica(cfg)
	Expect(err).NotTo(HaveOccurred())
	replicas = []replica{{running.Operator, running.HubAddr}, {standby.Operator, standby.HubAddr}}
})

var _ = AfterSuite(func() {
	if standby != nil {
		Expect(standby.Stop()).To(Succeed())
	}
	if running != nil {
		Expect(running.Stop()).To(Succeed())
	}
})

// leader waits until exactly one replica leads, and returns it and the other.
func leader() (lead, other replica) {
	GinkgoHelper()
	Eventually(func() int {
		n := 0
		for _, r := range replicas {
			if r.op.Elector.Leading() {
				n++
			}
		}
		return n
	}).Should(Equal(1), "one replica leads")
	if replicas[0].op.Elector.Leading() {
		return replicas[0], replicas[1]
	}
	return replicas[1], replicas[0]
}
