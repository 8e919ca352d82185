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

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/checkstack/satellite-operator/internal/controlplane"
)

var _ = Describe("A user", Ordered, func() {
	const (
		chart     = "config/helm/satellite-operator"
		release   = "satellite-operator"
		namespace = "satellite-system"
	)
	var (
		hubPort, probePort, metricsPort int
		// firstManager is the manager the suite starts first, which leads.
		firstManager *process
		// replicas are the manager replicas that run once the specs run more than one, service
		// sends the agent to them as a Service does, and agentMetricsPort serves the agent's
		// /metrics.
		replicas         []replica
		service          *tcpService
		agentMetricsPort int
		agentEnv         []string
		metricsToken     string
	)
	// startManager runs a manager replica as the chart's ServiceAccount, with the chart's
	// permissions and nothing more, so that every spec proves them enough, and electing a leader
	// as the chart's replicas do.
	startManager := func(hubPort, probePort, metricsPort int) *process {
		GinkgoHelper()
		return start("manager", []string{"KUBECONFIG=" + serviceAccountKubeconfig(namespace, release)},
			"--leader-elect", "--leader-election-namespace", namespace,
			"--satellite-bind-address", addr(hubPort),
			"--health-probe-bind-address", addr(probePort),
			"--metrics-bind-address", addr(metricsPort),
			"--heartbeat-interval", "1s",
		)
	}

	It("lints both charts, and the API server accepts everything they render, with no Pod Security warning", func() {
		run(root, "make", "helm-lint")
		// kubectl apply --dry-run=server of both charts' templates, every option on, in a namespace
		// that enforces the restricted Pod Security Standard and warns about any pod short of it.
		kubectl("create", "namespace", "restricted")
		kubectl("label", "namespace", "restricted",
			"pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted")
		runEnv(root, []string{"NAMESPACE=restricted"}, "make", "helm-dry-run")

		By("the namespace does warn about a pod short of restricted")
		out := run(root, "bash", "-c", helm+` template x config/helm/satellite-operator --namespace restricted \
			--kube-version v1.37.2 --set manager.securityContext.allowPrivilegeEscalation=true |
			kubectl apply --dry-run=server --namespace restricted -f - 2>&1`)
		Expect(out).To(ContainSubstring(`would violate PodSecurity "restricted:latest"`))
	})

	It("installs the operator chart with helm, and the API server accepts every object", func() {
		run(root, helm, "install", release, chart, "--namespace", namespace, "--create-namespace")
		Expect(kubectl("get", "crd", "satellites.satellite.checkstack.io", "healthcheckassignments.satellite.checkstack.io", "-o", "name")).
			To(ContainSubstring("satellites.satellite.checkstack.io"))
		Expect(kubectl("get", "deployment,service,serviceaccount", "-n", namespace, "-o", "name")).
			To(ContainSubstring("deployment.apps/"))
	})

	It("gives the manager's ServiceAccount exactly the permissions docs/security.md lists, through the chart and config/rbac alike", func() {
		want := documentedPermissions()
		Expect(canIList("system:serviceaccount:"+namespace+":"+release, namespace)).To(Equal(want))

		kubectl("create", "namespace", "system")
		kubectl("apply", "-k", "config/rbac")
		Expect(canIList("system:serviceaccount:system:controller-manager", "system")).To(Equal(want))
	})

	It("confines a manager to its watchNamespaces with the chart's Roles alone, serving plain HTTP metrics with --metrics-secure=false", func() {
		// A second release's ServiceAccount and RBAC only: a Role in namespace restricted, no ClusterRole.
		rbac := run(root, helm, "template", "confined", chart, "--namespace", namespace, "--kube-version", "v1.37.2",
			"--set", "manager.watchNamespaces={restricted}", "--set", "metrics.secure=false",
			"--show-only", "templates/serviceaccount.yaml", "--show-only", "templates/rbac/manager.yaml")
		Expect(rbac).NotTo(ContainSubstring("kind: ClusterRole"))
		rbacFile := filepath.Join(bin, "confined-rbac.yaml")
		Expect(os.WriteFile(rbacFile, []byte(rbac), 0o600)).To(Succeed())
		kubectl("apply", "-f", rbacFile)
		kubectl("create", "namespace", "elsewhere")

		port := freePort()
		confined := start("manager", []string{"KUBECONFIG=" + serviceAccountKubeconfig(namespace, "confined-satellite-operator")},
			"--satellite-bind-address", addr(freePort()),
			"--health-probe-bind-address", addr(freePort()),
			"--metrics-bind-address", addr(port),
			"--metrics-secure=false",
			"--watch-namespaces=restricted",
		)
		defer confined.stop()
		for _, ns := range []string{"restricted", "elsewhere"} {
			kubectl("apply", "-n", ns, "-f", "config/samples/satellite_v1alpha1_satellite.yaml")
		}
		Eventually(jsonpath("secret/eu-west-token", ".data.token", "-n", "restricted")).ShouldNot(BeEmpty())
		Eventually(jsonpath("satellite/eu-west", ".status.state", "-n", "restricted")).Should(Equal("Offline"))
		Consistently(jsonpath("secret/eu-west-token", ".metadata.name", "-n", "elsewhere"), 2*time.Second).Should(BeEmpty(),
			"a namespace outside --watch-namespaces is left alone")

		Eventually(func() int {
			resp, err := http.Get("http://" + addr(port) + "/metrics")
			if err != nil {
				return 0
			}
			_ = resp.Body.Close()
			return resp.StatusCode
		}).Should(Equal(http.StatusOK), "--metrics-secure=false serves plain HTTP to anyone")
	})

	It("applies the samples with kubectl", func() {
		kubectl("apply", "-k", "config/samples")
		Expect(jsonpath("satellite/eu-west", ".spec.region")()).To(Equal("eu-west-1"))
		// Short enough for the test to see the agent's death; the sample says 45 s.
		kubectl("patch", "satellite", "eu-west", "--type=merge", "-p", `{"spec":{"offlineThresholdSeconds":5}}`)
	})

	It("runs the manager as the chart's ServiceAccount, which generates the satellite's token", func() {
		hubPort, probePort, metricsPort = freePort(), freePort(), freePort()
		// With the chart's permissions and nothing more, so that every later spec proves them enough,
		// and electing itself leader as the chart's replicas do.
		firstManager = startManager(hubPort, probePort, metricsPort)
		Eventually(jsonpath("secret/eu-west-token", ".data.token")).ShouldNot(BeEmpty())
		Eventually(jsonpath("satellite/eu-west", ".status.state")).Should(Equal("Offline"))
		// The sample checks the manager's probe endpoint, here on a port of the test's choosing.
		kubectl("patch", "healthcheckassignment", "manager-healthz", "--type=merge", "-p",
			fmt.Sprintf(`{"spec":{"check":{"http":{"url":"http://%s/healthz"}}}}`, addr(probePort)))
	})

	It("serves /metrics over HTTPS only to a token whose RBAC allows get on /metrics", func() {
		url := "https://" + addr(metricsPort) + "/metrics"
		code, _ := getMetrics(url, "")
		Expect(code).To(Equal(http.StatusUnauthorized), "no token")
		// controller-runtime's filter takes the API server's rejection of a token for an error of its
		// own and answers 500; what matters is that nothing is served.
		code, body := getMetrics(url, "not-a-token")
		Expect(code).NotTo(Equal(http.StatusOK), "a token the API server does not know")
		Expect(body).NotTo(ContainSubstring("controller_runtime"))

		kubectl("create", "serviceaccount", "nosy", "-n", namespace)
		code, _ = getMetrics(url, kubectl("create", "token", "nosy", "-n", namespace))
		Expect(code).To(Equal(http.StatusForbidden), "a valid token without the metrics-reader role")

		kubectl("create", "serviceaccount", "prometheus", "-n", namespace)
		kubectl("create", "clusterrolebinding", "prometheus-satellite-metrics",
			"--clusterrole="+release+"-metrics-reader", "--serviceaccount="+namespace+":prometheus")
		metricsToken = kubectl("create", "token", "prometheus", "-n", namespace)
		code, body = getMetrics(url, metricsToken)
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring("controller_runtime_reconcile_total"))
	})

	It("runs the agent with the satellite's token: Online, and the sample check Healthy", func() {
		tokenFile := filepath.Join(bin, "token")
		token := run(root, "kubectl", "get", "secret", "eu-west-token", "-o", "jsonpath={.data.token}")
		Expect(os.WriteFile(tokenFile, []byte(decodeBase64(token)), 0o600)).To(Succeed())
		agentEnv = []string{
			"CHECKSTACK_CORE_URL=http://" + addr(hubPort),
			"CHECKSTACK_SATELLITE_CLIENT_ID=" + jsonpath("satellite/eu-west", ".metadata.uid")(),
		}
		start("satellite", agentEnv, "--token-file", tokenFile, "--metrics-bind-address", addr(freePort()))
		Eventually(jsonpath("satellite/eu-west", ".status.state")).Should(Equal("Online"))
		Eventually(jsonpath("healthcheckassignment/manager-healthz", ".status.state")).Should(Equal("Healthy"))
		Expect(kubectl("get", "sat,hca")).To(ContainSubstring("Online"))
		// The results reach the manager's /metrics too.
		code, metrics := getMetrics("https://"+addr(metricsPort)+"/metrics", metricsToken)
		Expect(code).To(Equal(http.StatusOK), metrics)
		Expect(metrics).To(MatchRegexp(`satellite_connected\{namespace="default",region="eu-west-1",satellite="eu-west"\} 1`))
		Expect(metrics).To(MatchRegexp(`satellite_check_up\{assignment="manager-healthz",[^}]*satellite="eu-west"[^}]*\} 1`))
		Expect(metrics).To(MatchRegexp(`satellite_results_total\{status="healthy"\} [1-9]`))
	})

	It("kills the agent: the satellite goes Offline with an Event, and Online again on restart", func() {
		agent := runningAgents[len(runningAgents)-1]
		agent.kill()
		Eventually(jsonpath("satellite/eu-west", ".status.state")).WithTimeout(15 * time.Second).Should(Equal("Offline"))
		Eventually(func(g Gomega) string {
			out, err := tryRun(root, "kubectl", "get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name")
			g.Expect(err).NotTo(HaveOccurred())
			return out
		}).ShouldNot(BeEmpty())

		start("satellite", agentEnv, "--token-file", filepath.Join(bin, "token"), "--metrics-bind-address", addr(freePort()))
		Eventually(jsonpath("satellite/eu-west", ".status.state")).Should(Equal("Online"))
		Expect(kubectl("get", "events", "--field-selector", "reason=SatelliteOnline", "-o", "name")).NotTo(BeEmpty())
	})

	It("runs two more replicas: every one Ready, and killing the leader closes only its own sessions", func() {
		leaderLease := "lease/satellite-operator.checkstack.io"
		Eventually(jsonpath(leaderLease, ".spec.holderIdentity", "-n", namespace)).ShouldNot(BeEmpty())
		leader := jsonpath(leaderLease, ".spec.holderIdentity", "-n", namespace)()
		secondHub, secondProbes, secondMetrics := freePort(), freePort(), freePort()
		thirdHub, thirdProbes := freePort(), freePort()
		replicas = []replica{
			{startManager(secondHub, secondProbes, secondMetrics), secondHub, secondProbes},
			{startManager(thirdHub, thirdProbes, freePort()), thirdHub, thirdProbes},
		}
		for _, port := range []int{probePort, secondProbes, thirdProbes} {
			Eventually(readyz).WithArguments(port).Should(Equal(http.StatusOK), "the replica on probe port %d is Ready", port)
		}
		Expect(jsonpath(leaderLease, ".spec.holderIdentity", "-n", namespace)()).To(Equal(leader), "the first manager still leads")

		By("moving the agent to the second replica, which does not lead")
		runningAgents[len(runningAgents)-1].kill()
		presence := "lease/satellite-eu-west"
		service = startService(addr(secondHub))
		secondEnv := append(slices.Clone(agentEnv), "CHECKSTACK_CORE_URL=http://"+service.addr())
		agentMetricsPort = freePort()
		start("satellite", secondEnv, "--token-file", filepath.Join(bin, "token"), "--metrics-bind-address", addr(agentMetricsPort))
		Eventually(jsonpath(presence, ".spec.holderIdentity")).ShouldNot(Equal(leader))
		Eventually(jsonpath(presence, ".metadata.annotations.satellite\\.checkstack\\.io/presence")).Should(Equal("Connected"))
		holder := jsonpath(presence, ".spec.holderIdentity")()
		Eventually(jsonpath("satellite/eu-west", ".status.state")).Should(Equal("Online"))
		// A replica that does not lead reports the satellites it serves, and the states the
		// leader wrote, so that alerts may take any replica's word.
		Eventually(func(g Gomega) string {
			_, body, err := tryGetMetrics("https://"+addr(secondMetrics)+"/metrics", metricsToken)
			g.Expect(err).NotTo(HaveOccurred())
			return body
		}).Should(And(
			MatchRegexp(`satellite_connected\{namespace="default",region="eu-west-1",satellite="eu-west"\} 1`),
			MatchRegexp(`satellite_info\{namespace="default",region="eu-west-1",satellite="eu-west",state="Online"\} 1`),
		))
		offlineEvents := kubectl("get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name")

		By("killing the leader")
		firstManager.kill()
		Eventually(jsonpath(leaderLease, ".spec.holderIdentity", "-n", namespace)).WithTimeout(60*time.Second).ShouldNot(Equal(leader),
			"another replica leads once the killed leader's Lease expires")
		// The new leader judges the satellite by the Lease the second replica keeps renewing.
		Consistently(jsonpath("satellite/eu-west", ".status.state")).WithTimeout(5 * time.Second).Should(Equal("Online"))
		Expect(jsonpath(presence, ".spec.holderIdentity")()).To(Equal(holder), "the second replica kept its session")
		Expect(kubectl("get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name")).To(Equal(offlineEvents))
		// The sample checks the killed manager's /healthz: the agent, served by the second
		// replica, sees it fail, and the new leader's status says so.
		Eventually(jsonpath("healthcheckassignment/manager-healthz", ".status.state")).WithTimeout(60 * time.Second).Should(Equal("Unhealthy"))
	})

	It("keeps every session of three replicas through a 45 s API server outage, and catches up after it", func() {
		probes := freePort()
		hub := freePort()
		replicas = append(replicas, replica{startManager(hub, probes, freePort()), hub, probes})
		Eventually(readyz).WithArguments(probes).Should(Equal(http.StatusOK))
		presence := "lease/satellite-eu-west"
		eventsOf := func() string {
			return kubectl("get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name") +
				kubectl("get", "events", "--field-selector", "reason=SatelliteOnline", "-o", "name")
		}
		eventsBefore := eventsOf()
		dialsBefore := agentMetric(Default, agentMetricsPort, "satellite_agent_dial_attempts_total")
		checksBefore := agentMetric(Default, agentMetricsPort, "satellite_agent_checks_total")

		By("stopping kube-apiserver; etcd runs on")
		resume, err := controlplane.PauseAPIServer(env.Config)
		Expect(err).NotTo(HaveOccurred())
		resumed := false
		defer func() {
			if !resumed {
				_ = resume()
			}
		}()
		outageStart := time.Now()
		// The agent runs its check every 10 s meanwhile. It asks for acks of written results, and
		// the replica that serves it cannot write: the agent keeps those results.
		Eventually(agentMetric).WithArguments(agentMetricsPort, "satellite_agent_checks_total").WithTimeout(45 * time.Second).
			Should(BeNumerically(">=", checksBefore+2))
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_buffered_results")).To(BeNumerically(">=", 1),
			"a result of the outage was acknowledged, though the replica could not write it")
		// The outage itself is what is tested, not a condition to wait for: every replica's
		// leader election must outlive its renew deadline.
		time.Sleep(time.Until(outageStart.Add(45 * time.Second)))
		checksInOutage := agentMetric(Default, agentMetricsPort, "satellite_agent_checks_total") - checksBefore

		By("starting kube-apiserver again")
		Expect(resume()).To(Succeed())
		resumed = true
		resumedAt := time.Now()
		for _, m := range replicas {
			Expect(m.proc.exited()).To(BeFalse(), "a manager exited during the outage")
		}
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_dial_attempts_total")).To(Equal(dialsBefore), "the agent's session was closed")
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_dropped_results_total")).To(BeZero())
		// The presence Lease is renewed within two report intervals (2 x 60 s) of the API's return.
		// Until the API answers again, kubectl reads nothing: g lets Eventually poll on.
		Eventually(func(g Gomega) time.Time {
			t, err := time.Parse(time.RFC3339Nano, jsonpath(presence, ".spec.renewTime")())
			g.Expect(err).NotTo(HaveOccurred())
			return t
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeTemporally(">", resumedAt))
		// The results of the window reach the assignment's status: its last run is one the agent
		// ran during the outage or after.
		Eventually(func(g Gomega) time.Time {
			t, err := time.Parse(time.RFC3339, jsonpath("healthcheckassignment/manager-healthz", ".status.satellites[0].lastRunAt")())
			g.Expect(err).NotTo(HaveOccurred())
			return t
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeTemporally(">=", outageStart.Truncate(time.Second)))
		// Written with the next renewal of the Lease, the outage's results are acknowledged.
		Eventually(agentMetric).WithArguments(agentMetricsPort, "satellite_agent_buffered_results").
			WithTimeout(3 * time.Minute).Should(BeZero())
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_dropped_results_total")).To(BeZero())
		Expect(eventsOf()).To(Equal(eventsBefore), "no Offline or Online Event: the satellite never went away")
		Expect(jsonpath("satellite/eu-west", ".status.state")()).To(Equal("Online"))
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_dial_attempts_total")).To(Equal(dialsBefore))
		GinkgoWriter.Printf("the agent ran %v checks during the outage, all acked once written\n", checksInOutage)
	})

	It("kills the replica that serves the agent: it moves to another within 30 s, loses no result, and stays Online", func() {
		presence := "lease/satellite-eu-west"
		holder := jsonpath(presence, ".spec.holderIdentity")()
		offlineEvents := kubectl("get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name")
		checksBefore := agentMetric(Default, agentMetricsPort, "satellite_agent_checks_total")

		// The agent reached the replica the suite started second; it serves the satellite still.
		// As the endpoints controller would, the Service forgets the killed replica.
		killed := replicas[0]
		replicas = replicas[1:]
		var endpoints []string
		for _, m := range replicas {
			endpoints = append(endpoints, addr(m.hub))
		}
		service.setEndpoints(endpoints...)
		killed.proc.kill()
		Eventually(jsonpath(presence, ".spec.holderIdentity")).WithTimeout(30*time.Second).ShouldNot(Equal(holder),
			"another replica holds the satellite's session")
		Eventually(agentMetric).WithArguments(agentMetricsPort, "satellite_agent_connected").Should(BeEquivalentTo(1))
		// The agent resends what the killed replica did not write, so did not ack: every result
		// it ran is acked once the next replica has written it, none dropped.
		Eventually(agentMetric).WithArguments(agentMetricsPort, "satellite_agent_checks_total").WithTimeout(time.Minute).
			Should(BeNumerically(">=", checksBefore+2))
		Eventually(agentMetric).WithArguments(agentMetricsPort, "satellite_agent_buffered_results").
			WithTimeout(3 * time.Minute).Should(BeZero())
		Expect(agentMetric(Default, agentMetricsPort, "satellite_agent_dropped_results_total")).To(BeZero())
		Expect(jsonpath("satellite/eu-west", ".status.state")()).To(Equal("Online"))
		Expect(kubectl("get", "events", "--field-selector", "reason=SatelliteOffline", "-o", "name")).To(Equal(offlineEvents))
	})

	It("upgrades with helm", func() {
		run(root, helm, "upgrade", release, chart, "--namespace", namespace, "--set", "manager.replicas=3")
		Expect(jsonpath("deployment", ".items[0].spec.replicas", "-n", namespace)()).To(Equal("3"))
		// There is no kubelet here to roll Pods: what runs are the replicas this suite started as the
		// chart's ServiceAccount, which the upgrade's RBAC must leave serving.
		Consistently(func() []int {
			var codes []int
			for _, m := range replicas {
				codes = append(codes, readyz(m.probes))
			}
			return codes
		}).WithTimeout(5*time.Second).Should(HaveEach(http.StatusOK), "every replica is Ready after the upgrade")
		Expect(jsonpath("satellite/eu-west", ".status.state")()).To(Equal("Online"))
	})

	It("uninstalls with helm, and the custom resources survive because crd.keep is set", func() {
		run(root, helm, "uninstall", release, "--namespace", namespace)
		Expect(kubectl("get", "crd", "satellites.satellite.checkstack.io", "-o", "name")).NotTo(BeEmpty())
		Expect(jsonpath("satellite/eu-west", ".spec.region")()).To(Equal("eu-west-1"))
		Expect(jsonpath("healthcheckassignment/manager-healthz", ".spec.system")()).To(Equal("satellite-operator"))
	})
})
