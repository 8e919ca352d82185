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

// Command manager runs the satellite-operator: the Satellite and HealthCheckAssignment
// controllers and, on the leader, the satellites' WebSocket endpoint.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/controllers"
	"github.com/checkstack/satellite-operator/internal/presence"
)

type options struct {
	metricsAddr          string
	probeAddr            string
	leaderElect          bool
	leaderElectionNS     string
	heartbeatInterval    time.Duration
	statusReportInterval time.Duration
	disconnectGrace      time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus /metrics endpoint; 0 disables it.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that only one replica serves satellites and reconciles.")
	flag.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader Lease; defaults to the manager's own namespace.")
	flag.DurationVar(&o.heartbeatInterval, "heartbeat-interval", 15*time.Second, "How often satellites send heartbeats.")
	flag.DurationVar(&o.statusReportInterval, "status-report-interval", 60*time.Second, "Least time between two writes of a Satellite's status.lastHeartbeatAt.")
	flag.DurationVar(&o.disconnectGrace, "disconnect-grace", 0, "How long a cleanly disconnected satellite stays Online; 0 means one heartbeat interval.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(o); err != nil {
		ctrl.Log.Error(err, "Manager failed")
		os.Exit(1)
	}
}

func run(o options) error {
	if o.heartbeatInterval <= 0 || o.statusReportInterval <= 0 || o.disconnectGrace < 0 {
		return fmt.Errorf("--heartbeat-interval and --status-report-interval must be positive, --disconnect-grace not negative")
	}
	if o.disconnectGrace == 0 {
		o.disconnectGrace = o.heartbeatInterval
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "satellite-operator.checkstack.io",
		LeaderElectionNamespace: o.leaderElectionNS,
		// Followers stop at once when they lose the Lease, so a new leader takes over quickly.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(),
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	clk := clock.RealClock{}
	tracker := presence.NewTracker(clk)
	if err := (&controllers.SatelliteReconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Recorder:        mgr.GetEventRecorder("satellite-operator"),
		Clock:           clk,
		Heartbeats:      tracker,
		DisconnectGrace: o.disconnectGrace,
		ReportInterval:  o.statusReportInterval,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up Satellite controller: %w", err)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	ctrl.Log.Info("Starting manager")
	return mgr.Start(ctrl.SetupSignalHandler())
}
