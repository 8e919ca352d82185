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
// controllers and the satellites' WebSocket endpoint, served by the leader.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/leadership"
	"github.com/checkstack/satellite-operator/internal/operator"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type options struct {
	kubeAPIQPS       float64
	kubeAPIBurst     int
	metricsAddr      string
	metricsSecure    bool
	metricsCertDir   string
	watchNamespaces  string
	probeAddr        string
	pprofAddr        string
	leaderElect      bool
	leaderElectionNS string
	leaderElection   leadership.Options
	operator         operator.Config
}

// leaseName is the leader Lease's name, the one controller-runtime's election used, so that an
// upgrade from a release that elected with it keeps one leader across the rollout.
const leaseName = "satellite-operator.checkstack.io"

// serviceAccountNamespace is where a pod finds its own namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func main() {
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "satellite_build_info",
		Help: "1, with the binary's component (manager or agent), version and Go version.",
	}, []string{"component", "version", "goversion"})
	buildInfo.WithLabelValues("manager", version, goruntime.Version()).Set(1)
	metrics.Registry.MustRegister(buildInfo)

	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus /metrics endpoint; 0 disables it.")
	flag.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve /metrics over HTTPS to clients whose bearer token the API server authenticates (TokenReview) and authorizes for get on the non-resource URL /metrics (SubjectAccessReview); false serves plain HTTP to anyone who can reach the port.")
	flag.StringVar(&o.metricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the HTTPS /metrics endpoint, reloaded when they change; empty means a self-signed certificate generated at start.")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces the operator watches and acts in; empty means every namespace. Its RBAC may then be Roles in these namespaces instead of a ClusterRole.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes; /readyz fails on standbys.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address of Go's /debug/pprof profiles, for finding where a large fleet spends the manager's time; 0 (the default) disables them. Bind it to loopback: the profiles are not authenticated.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that one replica serves satellites and reconciles while the others stand by. A leader that loses its Lease, as in an API server outage, keeps its sessions and leads again when it wins the Lease back.")
	flag.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader Lease; defaults to the manager's own namespace.")
	flag.DurationVar(&o.leaderElection.LeaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long a standby waits after the leader's last renewal before it takes the Lease.")
	flag.DurationVar(&o.leaderElection.RenewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader tries to renew its Lease before its term ends; less than the lease duration.")
	flag.DurationVar(&o.leaderElection.RetryPeriod, "leader-elect-retry-period", 2*time.Second, "Time between two tries to win or renew the Lease; less than the renew deadline.")
	flag.StringVar(&o.operator.Hub.Addr, "satellite-bind-address", ":8090", "Address of the satellites' WebSocket endpoint /api/ws/satellite.")
	flag.StringVar(&o.operator.Hub.TLSCertFile, "tls-cert-file", "", "Certificate of the satellites' endpoint; with --tls-key-file it serves wss.")
	flag.StringVar(&o.operator.Hub.TLSKeyFile, "tls-key-file", "", "Private key of the satellites' endpoint.")
	flag.DurationVar(&o.operator.Hub.HeartbeatInterval, "heartbeat-interval", 15*time.Second, "How often satellites send heartbeats; sent to them on authentication.")
	flag.DurationVar(&o.operator.StatusReportInterval, "status-report-interval", 60*time.Second, "Least time between two writes of a Satellite's lastHeartbeatAt, or of an assignment's status for results that change no state.")
	flag.DurationVar(&o.operator.DisconnectGrace, "disconnect-grace", 0, "How long a cleanly disconnected satellite stays Online; 0 means one heartbeat interval.")
	flag.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 500, "Requests per second the manager may make to the API server: a fleet of N satellites writes about N/60 statuses a second at the default report interval, and N at once when it reconnects; API Priority and Fairness still protects the API server.")
	flag.IntVar(&o.kubeAPIBurst, "kube-api-burst", 1000, "Burst of requests above --kube-api-qps.")
	flag.IntVar(&o.operator.MaxConcurrentReconciles, "max-concurrent-reconciles", 32, "How many Satellites, and how many assignments, are reconciled at once; each waits mostly on the API server.")
	flag.Float64Var((*float64)(&o.operator.Hub.Admission.Rate), "handshake-rate", 1000, "Upgrades per second the satellites' endpoint takes on, over all addresses.")
	flag.Float64Var((*float64)(&o.operator.Hub.Admission.SourceRate), "handshake-rate-per-source", 100, "Upgrades per second from one remote address (an IPv6 /64); behind a proxy every satellite shares the proxy's.")
	flag.IntVar(&o.operator.Hub.Admission.SourcePending, "pending-per-source", 256, "Connections from one remote address that may wait to authenticate at once.")
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
	if o.operator.Hub.HeartbeatInterval <= 0 || o.operator.StatusReportInterval <= 0 || o.operator.DisconnectGrace < 0 {
		return errors.New("--heartbeat-interval and --status-report-interval must be positive, --disconnect-grace not negative")
	}
	if (o.operator.Hub.TLSCertFile == "") != (o.operator.Hub.TLSKeyFile == "") {
		return errors.New("--tls-cert-file and --tls-key-file go together")
	}
	namespaces, err := parseNamespaces(o.watchNamespaces)
	if err != nil {
		return err
	}
	o.operator.Namespaces = namespaces
	if o.metricsCertDir != "" && !o.metricsSecure {
		return errors.New("--metrics-cert-dir needs --metrics-secure")
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	if o.kubeAPIQPS <= 0 || o.kubeAPIBurst <= 0 || o.operator.MaxConcurrentReconciles <= 0 {
		return errors.New("--kube-api-qps, --kube-api-burst and --max-concurrent-reconciles must be positive")
	}
	if o.leaderElect {
		le := o.leaderElection
		le.Name, le.Namespace = leaseName, o.leaderElectionNS
		if le.Namespace == "" {
			ns, err := os.ReadFile(serviceAccountNamespace)
			if err != nil {
				return fmt.Errorf("--leader-election-namespace is needed outside a cluster: %w", err)
			}
			le.Namespace = strings.TrimSpace(string(ns))
		}
		o.operator.LeaderElection = &le
	}
	restCfg := ctrl.GetConfigOrDie()
	restCfg.QPS, restCfg.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst
	// The manager does not elect: its election would end the process, and every session, when
	// the Lease is lost. operator.Setup runs the election in terms instead.
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOptions(o),
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		Cache:                  operator.CacheOptions(namespaces),
	})
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	if _, err := operator.Setup(ctx, mgr, o.operator); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("Starting manager", "watchNamespaces", namespaces, "metricsSecure", o.metricsSecure)
	return mgr.Start(ctx)
}

// metricsOptions serves /metrics the way kubebuilder scaffolds it: HTTPS, and only to callers the
// API server authenticates and authorizes, unless --metrics-secure=false.
func metricsOptions(o options) metricsserver.Options {
	opts := metricsserver.Options{BindAddress: o.metricsAddr}
	if !o.metricsSecure {
		return opts
	}
	opts.SecureServing = true
	opts.FilterProvider = filters.WithAuthenticationAndAuthorization
	opts.CertDir = o.metricsCertDir
	// HTTP/1.1 only: HTTP/2 stream resets (CVE-2023-44487, CVE-2023-39325) cost a server far more
	// than the client, and a scraper gains nothing from HTTP/2.
	opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	return opts
}

// parseNamespaces reads --watch-namespaces: names separated by commas, each a namespace name.
func parseNamespaces(flagValue string) ([]string, error) {
	var namespaces []string
	for _, ns := range strings.Split(flagValue, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		if !slices.Contains(namespaces, ns) {
			namespaces = append(namespaces, ns)
		}
	}
	return namespaces, nil
}
