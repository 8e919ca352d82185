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
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	gomegatypes "github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

var _ = Describe("SatelliteReconciler", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	newSatellite := func(name string, thresholdSeconds int32) *v1alpha1.Satellite {
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", OfflineThresholdSeconds: ptr.To(thresholdSeconds)},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		return sat
	}
	// connect authenticates with the satellite's generated token, as its agent would, and
	// reports the version in a first heartbeat.
	connect := func(sat *v1alpha1.Satellite, version string) fleet.Handle {
		GinkgoHelper()
		secret := &corev1.Secret{}
		Eventually(func() error {
			return k8sClient.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: sat.Name + "-token"}, secret)
		}).Should(Succeed())
		var h fleet.Handle
		Eventually(func() bool {
			var err error
			h, _, err = fleetState.Authenticate(string(sat.UID), string(secret.Data[v1alpha1.SecretKeyToken]), []string{protocol.CapabilityCheckConfig}, sessionStub{})
			return err == nil
		}).Should(BeTrue())
		fleetState.Heartbeat(h, version, nil)
		return h
	}
	get := func(sat *v1alpha1.Satellite) *v1alpha1.Satellite {
		got := &v1alpha1.Satellite{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(sat), got)).To(Succeed())
		return got
	}
	state := func(sat *v1alpha1.Satellite) func() v1alpha1.SatelliteState {
		return func() v1alpha1.SatelliteState { return get(sat).Status.State }
	}
	onlineReason := func(sat *v1alpha1.Satellite) string {
		c := meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionOnline)
		Expect(c).NotTo(BeNil())
		return c.Reason
	}
	// events returns the Events about the satellite with the reason, as the API stores them. An
	// Event repeated by the recorder carries a series; it counts twice so it cannot pass as one.
	events := func(sat *v1alpha1.Satellite, reason string) func() []eventsv1.Event {
		return func() []eventsv1.Event {
			list := &eventsv1.EventList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(sat.Namespace))).To(Succeed())
			var out []eventsv1.Event
			for _, e := range list.Items {
				if e.Regarding.UID == sat.UID && e.Reason == reason {
					out = append(out, e)
					if e.Series != nil {
						out = append(out, e)
					}
				}
			}
			return out
		}
	}
	tokenSecret := func(sat *v1alpha1.Satellite) *corev1.Secret {
		s := &corev1.Secret{}
		Eventually(func() error {
			return k8sClient.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: sat.Name + "-token"}, s)
		}).Should(Succeed())
		return s
	}

	It("generates a token Secret owned by the Satellite and starts it Offline silently", func() {
		sat := newSatellite("eu-west", 45)
		secret := tokenSecret(sat)

		Expect(metav1.IsControlledBy(secret, sat)).To(BeTrue(), "owner references: %v", secret.OwnerReferences)
		Expect(secret.Labels).To(HaveKeyWithValue(v1alpha1.LabelTokenSecret, "true"))
		Expect(string(secret.Data[v1alpha1.SecretKeyClientID])).To(Equal(string(sat.UID)))
		Expect(string(secret.Data[v1alpha1.SecretKeyToken])).To(MatchRegexp(`^csat_[A-Za-z0-9_-]{43}$`))

		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(onlineReason(sat)).To(Equal(v1alpha1.ReasonNeverConnected))
		Expect(meta.IsStatusConditionTrue(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)).To(BeTrue())
		Eventually(events(sat, v1alpha1.EventTokenGenerated)).Should(HaveLen(1))
		Consistently(events(sat, v1alpha1.EventSatelliteOffline)).Should(BeEmpty())
	})

	It("rotates the token when rotate-token takes a new value, and never shows it", func() {
		sat := newSatellite("rotating", 45)
		before := string(tokenSecret(sat).Data[v1alpha1.SecretKeyToken])

		rotate := func(value string) {
			patch := client.MergeFrom(get(sat))
			annotated := get(sat)
			annotated.Annotations = map[string]string{v1alpha1.AnnotationRotateToken: value}
			Expect(k8sClient.Patch(ctx, annotated, patch)).To(Succeed())
		}
		token := func() string { return string(tokenSecret(sat).Data[v1alpha1.SecretKeyToken]) }

		rotate("2026-11-27")
		Eventually(token).ShouldNot(Equal(before))
		after := token()
		Expect(after).To(HavePrefix("csat_"))
		Eventually(events(sat, v1alpha1.EventTokenRotated)).Should(HaveLen(1))
		// The same value again changes nothing.
		Consistently(token).Should(Equal(after))

		rotate("2026-11-28")
		Eventually(token).ShouldNot(Equal(after))
		Eventually(events(sat, v1alpha1.EventTokenRotated)).Should(HaveLen(2))

		raw, err := json.Marshal(get(sat))
		Expect(err).NotTo(HaveOccurred())
		all := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, all, client.InNamespace(ns))).To(Succeed())
		rawEvents, err := json.Marshal(all)
		Expect(err).NotTo(HaveOccurred())
		for _, t := range []string{before, after, token()} {
			Expect(string(raw)).NotTo(ContainSubstring(t))
			Expect(string(rawEvents)).NotTo(ContainSubstring(t))
		}
	})

	It("uses the Secret named by spec.tokenSecretRef and labels it for the manager's cache", func() {
		byo := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-token"},
			Data:       map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_mine")},
		}
		Expect(k8sClient.Create(ctx, byo)).To(Succeed())
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "byo"},
			Spec:       v1alpha1.SatelliteSpec{Region: "us-east-1", TokenSecretRef: &v1alpha1.SecretReference{Name: "my-token"}},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())

		Eventually(func() string {
			c := meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)
			if c == nil {
				return ""
			}
			return c.Reason
		}).Should(Equal(v1alpha1.ReasonTokenProvided))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(byo), byo)).To(Succeed())
		Expect(byo.Labels).To(HaveKeyWithValue(v1alpha1.LabelTokenSecret, "true"))
		Expect(string(byo.Data[v1alpha1.SecretKeyToken])).To(Equal("csat_mine"))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "byo-token"}, &corev1.Secret{})).
			NotTo(Succeed(), "no token is generated when one is provided")
	})

	It("notices when an invalid Secret named by spec.tokenSecretRef is fixed", func() {
		byo := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "half-done"},
			Data:       map[string][]byte{"tokn": []byte("csat_typo")},
		}
		Expect(k8sClient.Create(ctx, byo)).To(Succeed())
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fixed-later"},
			Spec:       v1alpha1.SatelliteSpec{Region: "us-east-1", TokenSecretRef: &v1alpha1.SecretReference{Name: "half-done"}},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		tokenReason := func() string {
			c := meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)
			if c == nil {
				return ""
			}
			return c.Reason
		}
		Eventually(tokenReason).Should(Equal(v1alpha1.ReasonSecretInvalid))

		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(byo), byo)).To(Succeed())
		byo.Data = map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_fixed")}
		Expect(k8sClient.Update(ctx, byo)).To(Succeed())
		// Well before the 30 s poll: the label makes the Secret's change a watch event.
		Eventually(tokenReason).Should(Equal(v1alpha1.ReasonTokenProvided))
	})

	It("leaves a Secret that holds its generated token's name but is not its own, and says so", func() {
		squatter := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken-token"},
			Data:       map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_someone-elses")},
		}
		Expect(k8sClient.Create(ctx, squatter)).To(Succeed())
		sat := newSatellite("taken", 45)
		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)
		}).Should(And(Not(BeNil()), HaveField("Reason", v1alpha1.ReasonSecretConflict),
			HaveField("Message", ContainSubstring("Secret taken-token exists and is not owned by this Satellite"))))
		untouched := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(squatter), untouched)).To(Succeed())
		Expect(untouched.ResourceVersion).To(Equal(squatter.ResourceVersion), "the Satellite's reconcile wrote a Secret it does not own")
	})

	It("reports a missing Secret named by spec.tokenSecretRef", func() {
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "missing"},
			Spec:       v1alpha1.SatelliteSpec{Region: "us-east-1", TokenSecretRef: &v1alpha1.SecretReference{Name: "nope"}},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		Eventually(func() *metav1.Condition {
			return meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)
		}).Should(And(Not(BeNil()), HaveField("Reason", v1alpha1.ReasonSecretNotFound), HaveField("Status", metav1.ConditionFalse)))
		Eventually(events(sat, v1alpha1.EventTokenSecretProblem)).Should(HaveLen(1))
	})

	It("frees a borrowed token Secret when the borrower points elsewhere, and keeps an owned one its owner left", func() {
		editor := testutil.SatelliteEditor(ctx, k8sClient, running.Env, running.Config, ns)
		tokenReady := func(sat *v1alpha1.Satellite) func() *metav1.Condition {
			return func() *metav1.Condition {
				return meta.FindStatusCondition(get(sat).Status.Conditions, v1alpha1.ConditionTokenReady)
			}
		}
		reason := func(r string) gomegatypes.GomegaMatcher { return And(Not(BeNil()), HaveField("Reason", r)) }
		newSecret := func(name string) {
			Expect(k8sClient.Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Data:       map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_" + name)},
			})).To(Succeed())
		}
		pointAt := func(c client.Client, sat *v1alpha1.Satellite, secret string) {
			latest := get(sat)
			patch := client.MergeFrom(latest.DeepCopy())
			latest.Spec.TokenSecretRef = &v1alpha1.SecretReference{Name: secret}
			Expect(c.Patch(ctx, latest, patch)).To(Succeed())
		}

		owner := newSatellite("owner", 45)
		generated := tokenSecret(owner)
		Eventually(tokenReady(owner)).Should(reason(v1alpha1.ReasonTokenGenerated))
		borrower := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "borrower"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", TokenSecretRef: &v1alpha1.SecretReference{Name: generated.Name}},
		}
		Expect(editor.Create(ctx, borrower)).To(Succeed())
		Eventually(tokenReady(owner)).Should(And(reason(v1alpha1.ReasonSecretConflict), HaveField("Message", ContainSubstring("Satellite borrower"))))
		Eventually(tokenReady(borrower)).Should(And(reason(v1alpha1.ReasonSecretConflict), HaveField("Message", ContainSubstring("Satellite owner"))))
		Eventually(events(owner, v1alpha1.EventTokenSecretProblem)).Should(HaveLen(1))
		Eventually(events(borrower, v1alpha1.EventTokenSecretProblem)).Should(HaveLen(1))

		By("the borrower points at a Secret of its own: both have a token again")
		newSecret("borrowers-own")
		pointAt(editor, borrower, "borrowers-own")
		Eventually(tokenReady(borrower)).Should(reason(v1alpha1.ReasonTokenProvided))
		Eventually(tokenReady(owner)).Should(reason(v1alpha1.ReasonTokenGenerated))

		By("the owner moves to a Secret of its own; its generated one is still nobody else's")
		newSecret("owners-own")
		pointAt(k8sClient, owner, "owners-own")
		Eventually(tokenReady(owner)).Should(reason(v1alpha1.ReasonTokenProvided))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(generated), generated)).To(Succeed())
		pointAt(editor, borrower, generated.Name)
		Eventually(tokenReady(borrower)).Should(And(reason(v1alpha1.ReasonSecretConflict), HaveField("Message", ContainSubstring("owned by Satellite owner"))))
		Consistently(tokenReady(owner)).Should(reason(v1alpha1.ReasonTokenProvided))
		untouched := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(generated), untouched)).To(Succeed())
		Expect(untouched.ResourceVersion).To(Equal(generated.ResourceVersion), "the borrower's reconcile wrote the owner's Secret")
	})

	DescribeTable("refuses an invalid Satellite with a message that names the field",
		func(spec map[string]any, field string) {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": v1alpha1.GroupVersion.String(),
				"kind":       "Satellite",
				"metadata":   map[string]any{"name": "invalid", "namespace": ns},
				"spec":       spec,
			}}
			err := k8sClient.Create(ctx, u)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field))
		},
		Entry("without spec.region", map[string]any{"offlineThresholdSeconds": 45}, "spec.region"),
		Entry("with an empty spec.region", map[string]any{"region": ""}, "spec.region"),
		Entry("with a spec.region of 64 characters", map[string]any{"region": strings.Repeat("a", 64)}, "spec.region"),
		Entry("with a threshold below the minimum", map[string]any{"region": "eu", "offlineThresholdSeconds": 4}, "spec.offlineThresholdSeconds"),
		Entry("with a threshold above the maximum", map[string]any{"region": "eu", "offlineThresholdSeconds": 86401}, "spec.offlineThresholdSeconds"),
		Entry("with an empty spec.tokenSecretRef.name", map[string]any{"region": "eu", "tokenSecretRef": map[string]any{"name": ""}}, "spec.tokenSecretRef.name"),
	)

	It("defaults spec.offlineThresholdSeconds to 45", func() {
		sat := &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "defaulted"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1"},
		}
		Expect(k8sClient.Create(ctx, sat)).To(Succeed())
		Expect(get(sat).Spec.OfflineThresholdSeconds).To(HaveValue(BeEquivalentTo(45)))
	})

	It("turns heartbeat facts into exactly one Event per transition", func() {
		sat := newSatellite("heartbeats", 5) // the smallest threshold the API allows
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOffline))

		session := connect(sat, "0.1.0")
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		// The version comes with the first heartbeat, which may be written after Online.
		Eventually(func() string { return get(sat).Status.Version }).Should(Equal("0.1.0"))
		got := get(sat)
		Expect(got.Status.ConnectedSince).NotTo(BeNil())
		Expect(got.Status.LastHeartbeatAt).NotTo(BeNil())
		Eventually(events(sat, v1alpha1.EventSatelliteOnline)).Should(HaveLen(1))

		// The last heartbeat: the threshold counts from it, not from when its version shows.
		last := time.Now()
		fleetState.Heartbeat(session, "0.2.0", nil)
		Eventually(func() string { return get(sat).Status.Version }).Should(Equal("0.2.0"))

		// Heartbeats stop: Offline once the threshold (5 s) has passed since the last one, not
		// before. How soon after it depends on the machine, so the upper bound is wide.
		Eventually(state(sat)).WithTimeout(30 * time.Second).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(time.Since(last)).To(BeNumerically(">=", 4*time.Second), "went Offline before the threshold")
		Expect(onlineReason(sat)).To(Equal(v1alpha1.ReasonHeartbeatTimeout))
		Expect(get(sat).Status.ConnectedSince).To(BeNil())
		Eventually(events(sat, v1alpha1.EventSatelliteOffline)).Should(HaveLen(1))
		Consistently(events(sat, v1alpha1.EventSatelliteOnline)).Should(HaveLen(1))
		Consistently(events(sat, v1alpha1.EventSatelliteOffline)).Should(HaveLen(1))
	})

	It("takes a cleanly disconnected satellite Offline after the grace, and a quick reconnect is silent", func() {
		sat := newSatellite("disconnects", 45)
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOffline))

		first := connect(sat, "0.1.0")
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOnline))
		// A reconnect inside the grace: still one Online event, no Offline.
		fleetState.Disconnected(first, true, 0, "")
		second := connect(sat, "0.1.0")
		Consistently(events(sat, v1alpha1.EventSatelliteOffline)).WithTimeout(disconnectGrace + time.Second).Should(BeEmpty())
		Expect(events(sat, v1alpha1.EventSatelliteOnline)()).To(HaveLen(1))

		fleetState.Disconnected(second, true, 0, "")
		Eventually(state(sat)).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(onlineReason(sat)).To(Equal(v1alpha1.ReasonDisconnected))
		Eventually(events(sat, v1alpha1.EventSatelliteOffline)).Should(HaveLen(1))
	})
})
