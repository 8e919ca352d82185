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

package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/operator"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

// The suite runs the operator's manager, wired as cmd/manager wires it, against a real
// kube-apiserver and etcd.
var (
	running    *controlplane.Running
	k8sClient  client.Client
	fleetState *fleet.Fleet
)

// disconnectGrace is short so that the clean-disconnect path is seen within a test.
const disconnectGrace = time.Second

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(10 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultConsistentlyDuration(300 * time.Millisecond)

	var err error
	running, err = controlplane.StartOperator(operator.Config{DisconnectGrace: disconnectGrace, StatusReportInterval: time.Minute})
	Expect(err).NotTo(HaveOccurred())
	k8sClient = running.Client
	fleetState = running.Operator.Fleet
})

var _ = AfterSuite(func() {
	if running != nil {
		Expect(running.Stop()).To(Succeed())
	}
})

// newNamespace creates a namespace of its own for one spec.
func newNamespace(ctx context.Context) string { return testutil.NewNamespace(ctx, k8sClient) }

// sessionStub stands in for a satellite's WebSocket session where a spec drives the fleet
// directly with the satellite's real credentials, to control each heartbeat.
type sessionStub struct{}

func (sessionStub) ConfigChanged()                      {}
func (sessionStub) Close(int, string, protocol.Message) {}
func (sessionStub) RemoteAddr() string                  { return "192.0.2.1:40000" }
func (sessionStub) Acknowledge([]string)                {}
