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

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/controlplane"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

// The confused deputy: a user who may write HealthCheckAssignments but not read Secrets must not
// get a Secret's value out of the manager by naming it in a header of a check that they aim at a
// server of their own.
var _ = Describe("Secrets by consent", func() {
	It("relays no Secret to an assignment author who may not read it, until its owner consents, and never a token", func() {
		ctx := context.Background()
		ns := newNamespace(ctx)
		sat := testutil.CreateSatellite(ctx, k8sClient, &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eu-west"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1"},
		})
		const password = "hunter2-d0-not-relay"
		db := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
			Data:       map[string][]byte{"password": []byte(password)},
		}
		Expect(k8sClient.Create(ctx, db)).To(Succeed())

		author := assignmentAuthor(ctx, ns)
		err := author.Get(ctx, client.ObjectKeyFromObject(db), &corev1.Secret{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the author must not be able to read Secrets: %v", err)

		s := connectSatellite(sat)
		defer s.close()
		Expect(s.auth.Assignments).To(BeEmpty())

		By("the author names a Secret without consent, and the satellite's token Secret")
		leak := headerCheck(ns, "leak-db", "db", "password")
		steal := headerCheck(ns, "steal-token", "eu-west-token", v1alpha1.SecretKeyToken)
		Expect(author.Create(ctx, leak)).To(Succeed())
		Expect(author.Create(ctx, steal)).To(Succeed())

		Eventually(ready(ctx, leak)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", v1alpha1.ReasonSecretNotPermitted),
			HaveField("Message", And(ContainSubstring("Secret db "), ContainSubstring(v1alpha1.LabelCheckSecret+`: "true"`))),
		))
		Eventually(ready(ctx, steal)).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", v1alpha1.ReasonSecretNotPermitted),
			HaveField("Message", And(ContainSubstring("Secret eu-west-token "), ContainSubstring("the token of Satellite eu-west"))),
		))
		Eventually(eventsAbout(ctx, leak, v1alpha1.EventSecretNotPermitted)).Should(ConsistOf(And(
			HaveField("Type", corev1.EventTypeWarning),
			HaveField("Note", And(ContainSubstring("Secret db "), ContainSubstring(v1alpha1.LabelCheckSecret))),
		)))
		Eventually(eventsAbout(ctx, steal, v1alpha1.EventSecretNotPermitted)).Should(ConsistOf(And(
			HaveField("Type", corev1.EventTypeWarning),
			HaveField("Note", ContainSubstring("Secret eu-west-token ")),
		)))
		Consistently(s.frames).ShouldNot(Receive(), "neither assignment is relayed")

		By("the owner of db consents: its value is relayed within 1 s")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(db), db)).To(Succeed())
		db.Labels = map[string]string{v1alpha1.LabelCheckSecret: "true"}
		labelled := time.Now()
		Expect(k8sClient.Update(ctx, db)).To(Succeed())
		var frame []byte
		Eventually(s.frames, 5*time.Second).Should(Receive(&frame))
		// How long it took is printed, not asserted: a test holds on a busy machine.
		GinkgoWriter.Printf("Consent to relay: %v\n", time.Since(labelled))
		Expect(headerValues(frame)).To(Equal(map[string]string{string(leak.UID): password}))
		Eventually(ready(ctx, leak)).Should(HaveField("Reason", v1alpha1.ReasonRelayed))

		By("the satellite's token Secret stays refused, even when it carries the consent label")
		token := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "eu-west-token"}, token)).To(Succeed())
		token.Labels[v1alpha1.LabelCheckSecret] = "true"
		Expect(k8sClient.Update(ctx, token)).To(Succeed())
		// One informer delivers both changes in order: once db's new value arrives, the manager has
		// seen the label on the token Secret too.
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(db), db)).To(Succeed())
		db.Data["password"] = []byte(password + "-rotated")
		changed := time.Now()
		Expect(k8sClient.Update(ctx, db)).To(Succeed())
		Eventually(s.frames, 5*time.Second).Should(Receive(&frame))
		GinkgoWriter.Printf("Secret change to relay: %v\n", time.Since(changed))
		Expect(headerValues(frame)).To(Equal(map[string]string{string(leak.UID): password + "-rotated"}))
		// A new generation of the assignment is reconciled with that label in the cache.
		Expect(author.Get(ctx, client.ObjectKeyFromObject(steal), steal)).To(Succeed())
		steal.Spec.Check.Timeout = &metav1.Duration{Duration: 5 * time.Second}
		Expect(author.Update(ctx, steal)).To(Succeed())
		Eventually(func() int64 {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(steal), steal)).To(Succeed())
			return steal.Status.ObservedGeneration
		}).Should(Equal(steal.Generation))
		Expect(meta.FindStatusCondition(steal.Status.Conditions, v1alpha1.ConditionReady)).To(HaveField("Reason", v1alpha1.ReasonSecretNotPermitted))
		Consistently(s.frames).ShouldNot(Receive())
		Expect(s.all()).NotTo(ContainSubstring(sat.Token))
	})

	It("refuses a consenting Secret that a Satellite names as its token, or that is labelled as a token", func() {
		ctx := context.Background()
		ns := newNamespace(ctx)
		consenting := map[string]string{v1alpha1.LabelCheckSecret: "true"}
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared", Labels: consenting},
			Data:       map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_provided")},
		})).To(Succeed())
		Expect(k8sClient.Create(ctx, &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "byo"},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", TokenSecretRef: &v1alpha1.SecretReference{Name: "shared"}},
		})).To(Succeed())
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "legacy", Labels: map[string]string{
				v1alpha1.LabelCheckSecret: "true", v1alpha1.LabelTokenSecret: "true"}},
			Data: map[string][]byte{v1alpha1.SecretKeyToken: []byte("csat_legacy")},
		})).To(Succeed())

		byRef := headerCheck(ns, "uses-provided", "shared", v1alpha1.SecretKeyToken)
		byLabel := headerCheck(ns, "uses-labelled", "legacy", v1alpha1.SecretKeyToken)
		Expect(k8sClient.Create(ctx, byRef)).To(Succeed())
		Expect(k8sClient.Create(ctx, byLabel)).To(Succeed())
		Eventually(ready(ctx, byRef)).Should(And(
			HaveField("Reason", v1alpha1.ReasonSecretNotPermitted),
			HaveField("Message", ContainSubstring("the token of Satellite byo")),
		))
		Eventually(ready(ctx, byLabel)).Should(And(
			HaveField("Reason", v1alpha1.ReasonSecretNotPermitted),
			HaveField("Message", ContainSubstring("label "+v1alpha1.LabelTokenSecret)),
		))
	})
})

// assignmentAuthor returns a client of a user bound to a Role of the namespace that may write
// HealthCheckAssignments and nothing else: in particular, not read Secrets.
func assignmentAuthor(ctx context.Context, ns string) client.Client {
	GinkgoHelper()
	name := "hca-author-" + ns
	Expect(k8sClient.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hca-author"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"healthcheckassignments"},
			Verbs:     []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		}},
	})).To(Succeed())
	Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hca-author"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "hca-author"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name}},
	})).To(Succeed())
	user, err := running.Env.AddUser(envtest.User{Name: name}, running.Config)
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(user.Config(), client.Options{Scheme: controlplane.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// headerCheck is an http check for eu-west whose Authorization header comes from secret's key.
func headerCheck(ns, name, secret, key string) *v1alpha1.HealthCheckAssignment {
	return &v1alpha1.HealthCheckAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.HealthCheckAssignmentSpec{
			System: "payments-api",
			Check: v1alpha1.CheckSpec{Type: v1alpha1.CheckHTTP, HTTP: &v1alpha1.HTTPCheck{
				URL: "https://collector.example.com/",
				Headers: []v1alpha1.HTTPHeader{{Name: "Authorization", ValueFrom: &v1alpha1.HeaderValueSource{
					SecretKeyRef: v1alpha1.SecretKeySelector{Name: secret, Key: key}}}},
			}},
			Satellites: []string{"eu-west"},
		},
	}
}

func ready(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) func() *metav1.Condition {
	return func() *metav1.Condition {
		got := &v1alpha1.HealthCheckAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(hca), got)).To(Succeed())
		return meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	}
}

// eventsAbout returns the Events about obj with the reason; one repeated by the recorder (with a
// series) counts twice, so that it cannot pass as one.
func eventsAbout(ctx context.Context, obj client.Object, reason string) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		list := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == obj.GetName() && e.Regarding.Kind == "HealthCheckAssignment" && e.Reason == reason {
				out = append(out, e)
				if e.Series != nil {
					out = append(out, e)
				}
			}
		}
		return out
	}
}

// satelliteConn is an authenticated satellite as the test sees it: every frame after
// authenticated arrives on frames, raw, as a satellite would read it.
type satelliteConn struct {
	ws     *websocket.Conn
	auth   *protocol.Authenticated
	frames chan []byte
	seen   chan string
}

func connectSatellite(s *testutil.Satellite) *satelliteConn {
	GinkgoHelper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+running.HubAddr+protocol.Path, nil)
	Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	// It speaks our dialect, as our agent does, so that the config it gets is ours to read.
	data, err := protocol.Encode(&protocol.Authenticate{ClientID: s.ClientID, Token: s.Token,
		Capabilities: []string{protocol.CapabilityCheckConfig}})
	Expect(err).NotTo(HaveOccurred())
	Expect(ws.WriteMessage(websocket.TextMessage, data)).To(Succeed())
	Expect(ws.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	_, data, err = ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	m, err := protocol.DecodeFromManager(data)
	Expect(err).NotTo(HaveOccurred())
	auth, ok := m.(*protocol.Authenticated)
	Expect(ok).To(BeTrue(), "the first frame after authenticate is authenticated: %s", data)
	Expect(ws.SetReadDeadline(time.Time{})).To(Succeed())
	c := &satelliteConn{ws: ws, auth: auth, frames: make(chan []byte, 64), seen: make(chan string, 64)}
	c.seen <- string(data)
	go func() {
		defer GinkgoRecover()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.seen <- string(data)
			c.frames <- data
		}
	}()
	return c
}

// all returns every frame the satellite received so far, joined.
func (c *satelliteConn) all() string {
	var b strings.Builder
	for {
		select {
		case f := <-c.seen:
			b.WriteString(f)
		default:
			return b.String()
		}
	}
}

func (c *satelliteConn) close() {
	_ = c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = c.ws.Close()
}

// headerValues decodes a config_updated frame into each assignment's Authorization header value.
func headerValues(frame []byte) map[string]string {
	GinkgoHelper()
	m, err := protocol.DecodeFromManager(frame)
	Expect(err).NotTo(HaveOccurred())
	update, ok := m.(*protocol.ConfigUpdated)
	Expect(ok).To(BeTrue(), "a config_updated frame: %s", frame)
	out := map[string]string{}
	for _, a := range update.Assignments {
		var cfg protocol.CheckConfig
		Expect(json.Unmarshal(a.Config, &cfg)).To(Succeed())
		Expect(cfg.HTTP).NotTo(BeNil())
		for _, h := range cfg.HTTP.Headers {
			Expect(h.Value).NotTo(BeNil())
			out[a.ConfigID] = *h.Value
		}
	}
	return out
}
