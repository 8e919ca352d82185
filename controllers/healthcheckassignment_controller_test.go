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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

var _ = Describe("HealthCheckAssignmentReconciler", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	readyReason := func(hca *v1alpha1.HealthCheckAssignment) func() string {
		return func() string {
			got := &v1alpha1.HealthCheckAssignment{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), got)).To(Succeed())
			if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady); c != nil {
				return c.Reason
			}
			return ""
		}
	}
	newHCA := func(name string) *v1alpha1.HealthCheckAssignment {
		return &v1alpha1.HealthCheckAssignment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.HealthCheckAssignmentSpec{
				System:     "payments-api",
				Check:      v1alpha1.CheckSpec{Type: v1alpha1.CheckTCP, TCP: &v1alpha1.TCPCheck{Host: "db.example.com", Port: 5432}},
				Satellites: []string{"eu-west", "us-east"},
			},
		}
	}

	// The API server's whole message is asserted, so that a second message (a conversion error
	// after a malformed duration, a timeout error after a short interval) fails the spec.
	DescribeTable("refuses an invalid assignment with one message that names the field",
		func(mutate func(spec map[string]any), want string) {
			spec := map[string]any{
				"system":     "payments-api",
				"check":      map[string]any{"type": "http", "http": map[string]any{"url": "https://payments.example.com/"}},
				"satellites": []any{"eu-west"},
			}
			mutate(spec)
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": v1alpha1.GroupVersion.String(), "kind": "HealthCheckAssignment",
				"metadata": map[string]any{"name": "invalid", "namespace": ns}, "spec": spec,
			}}
			err := k8sClient.Create(ctx, u)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(Equal(`HealthCheckAssignment.satellite.checkstack.io "invalid" is invalid: ` + want))
		},
		Entry("no satellites selected", func(s map[string]any) { delete(s, "satellites") },
			`spec: Invalid value: spec must select satellites: set spec.satellites, spec.satelliteSelector or spec.regions`),
		Entry("no system", func(s map[string]any) { delete(s, "system") }, `[spec.system: Required value, <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`),
		Entry("a malformed interval", func(s map[string]any) { s["check"].(map[string]any)["interval"] = "30 s" },
			`spec.check.interval: Invalid value: "30 s": must be a duration such as 30s`),
		Entry("a malformed timeout", func(s map[string]any) { s["check"].(map[string]any)["timeout"] = "10sec" },
			`spec.check.timeout: Invalid value: "10sec": must be a duration such as 30s`),
		Entry("a malformed degradedLatency", func(s map[string]any) { s["thresholds"] = map[string]any{"degradedLatency": "fast"} },
			`spec.thresholds.degradedLatency: Invalid value: "fast": must be a duration such as 30s`),
		Entry("an interval under 5s, with the default timeout", func(s map[string]any) { s["check"].(map[string]any)["interval"] = "4s" },
			`spec.check.interval: Invalid value: "4s": spec.check.interval must be at least 5s`),
		Entry("a timeout not below the interval", func(s map[string]any) {
			s["check"].(map[string]any)["interval"] = "10s"
			s["check"].(map[string]any)["timeout"] = "10s"
		}, `spec.check.timeout: Invalid value: spec.check.timeout must be less than spec.check.interval`),
		Entry("a block of another type", func(s map[string]any) {
			s["check"].(map[string]any)["tcp"] = map[string]any{"host": "db", "port": 5432}
		}, `spec.check.tcp: Invalid value: spec.check.tcp must not be set when spec.check.type is http: remove it, or set spec.check.type to tcp`),
		Entry("the type's block missing", func(s map[string]any) { s["check"] = map[string]any{"type": "dns"} },
			`spec.check.dns: Invalid value: spec.check.dns must be set when spec.check.type is dns`),
		Entry("an unknown type", func(s map[string]any) { s["check"].(map[string]any)["type"] = "smtp" },
			`[spec.check.type: Unsupported value: "smtp": supported values: "http", "tcp", "dns", "tls", "grpc", "icmp", <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]`),
		Entry("a URL that is not http(s)", func(s map[string]any) {
			s["check"].(map[string]any)["http"] = map[string]any{"url": "ftp://example.com/"}
		}, `spec.check.http.url: Invalid value: "ftp://example.com/": spec.check.http.url in body should match '^https?://[^\s]+$'`),
		Entry("a header with both value and valueFrom", func(s map[string]any) {
			s["check"].(map[string]any)["http"].(map[string]any)["headers"] = []any{map[string]any{
				"name": "Authorization", "value": "x",
				"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "api", "key": "bearer"}},
			}}
		}, `spec.check.http.headers[0]: Invalid value: exactly one of value and valueFrom must be set`),
		Entry("a port out of range", func(s map[string]any) {
			s["check"] = map[string]any{"type": "tcp", "tcp": map[string]any{"host": "db", "port": 70000}}
		}, `spec.check.tcp.port: Invalid value: 70000: spec.check.tcp.port in body should be less than or equal to 65535`),
		Entry("a quorum of zero", func(s map[string]any) { s["thresholds"] = map[string]any{"quorum": 0} },
			`spec.thresholds.quorum: Invalid value: 0: spec.thresholds.quorum in body should be greater than or equal to 1`),
		Entry("a selector operator that does not exist", func(s map[string]any) {
			s["satelliteSelector"] = map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "Equals", "values": []any{"edge"}}}}
		}, `spec.satelliteSelector.matchExpressions: Invalid value: spec.satelliteSelector.matchExpressions: operator must be one of In, NotIn, Exists, DoesNotExist`),
		Entry("a selector In without values", func(s map[string]any) {
			s["satelliteSelector"] = map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "In"}}}
		}, `spec.satelliteSelector.matchExpressions: Invalid value: spec.satelliteSelector.matchExpressions: operators In and NotIn need at least one value`),
		Entry("a selector Exists with values", func(s map[string]any) {
			s["satelliteSelector"] = map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "Exists", "values": []any{"edge"}}}}
		}, `spec.satelliteSelector.matchExpressions: Invalid value: spec.satelliteSelector.matchExpressions: operators Exists and DoesNotExist take no values`),
	)

	It("defaults the interval, timeout and thresholds", func() {
		hca := newHCA("defaults")
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		Expect(hca.Spec.Check.Interval.Duration).To(Equal(30 * time.Second))
		Expect(hca.Spec.Check.Timeout.Duration).To(Equal(10 * time.Second))
		Expect(hca.Spec.Thresholds).To(Equal(v1alpha1.Thresholds{FailureThreshold: 1, SuccessThreshold: 1, Quorum: 1}))
	})

	It("counts the satellites it selects and starts Unknown, with no check Event", func() {
		for _, name := range []string{"eu-west", "ap-south"} {
			Expect(k8sClient.Create(ctx, &v1alpha1.Satellite{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec:       v1alpha1.SatelliteSpec{Region: name + "-1"},
			})).To(Succeed())
		}
		hca := newHCA("selected")
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		// Neither satellite ever connected: both are Offline.
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonSatellitesOffline))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
		Expect(hca.Status.State).To(Equal(v1alpha1.CheckUnknown))
		Expect(hca.Status.SelectedSatellites).To(BeEquivalentTo(1))
		Expect(hca.Status.Satellites).To(ConsistOf(HaveField("Name", "eu-west")))

		By("a Satellite created later is selected too")
		Expect(k8sClient.Create(ctx, &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "us-east"},
			Spec:       v1alpha1.SatelliteSpec{Region: "us-east-1"},
		})).To(Succeed())
		Eventually(func() int32 {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), hca)).To(Succeed())
			return hca.Status.SelectedSatellites
		}).Should(BeEquivalentTo(2))
	})

	It("waits for the Secret a header refers to, and sees it consent and get its key without a nudge", func() {
		hca := newHCA("with-secret")
		hca.Spec.Check = v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, HTTP: &v1alpha1.HTTPCheck{
			URL: "https://payments.example.com/healthz",
			Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: &v1alpha1.HeaderValueSource{
				SecretKeyRef: v1alpha1.SecretKeySelector{Name: "api", Key: "bearer"}}}},
		}}
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		// Missing and without consent look alike: the manager never reads a Secret without it.
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonSecretNotPermitted))

		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "api", Labels: map[string]string{v1alpha1.LabelCheckSecret: "true"}},
			Data:       map[string][]byte{"other": []byte("x")},
		}
		Expect(k8sClient.Create(ctx, secret)).To(Succeed())
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonSecretUnavailable))

		secret.Data["bearer"] = []byte("Bearer s3cr3t")
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		// Relayed now, to no satellite: none of the namespace is selected.
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonNoSatellitesSelected))

		By("a label with another value than \"true\" is no consent")
		secret.Labels[v1alpha1.LabelCheckSecret] = "yes"
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonSecretNotPermitted))
	})

	It("reports a paused assignment", func() {
		hca := newHCA("paused")
		hca.Spec.Paused = true
		Expect(k8sClient.Create(ctx, hca)).To(Succeed())
		Eventually(readyReason(hca)).Should(Equal(v1alpha1.ReasonPaused))
	})
})
