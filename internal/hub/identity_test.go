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

package hub_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
	"github.com/checkstack/satellite-operator/internal/testutil"
)

// attempt dials with header, sends first when it is not nil, and returns how the manager ends the
// connection: the close code and the frames before it, or the HTTP status of a refused upgrade
// (a bearer token is checked before the upgrade). Authenticated connections are closed.
func attempt(header http.Header, first *protocol.Authenticate) (int, []protocol.Message) {
	GinkgoHelper()
	ws, resp, err := websocket.DefaultDialer.Dial(endpoint(), header)
	if err != nil {
		Expect(resp).NotTo(BeNil(), "dialing: %v", err)
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	_ = resp.Body.Close()
	c := newConn(ws)
	defer func() { _ = c.ws.Close() }()
	if first != nil {
		c.send(first)
	}
	var frames []protocol.Message
	for {
		select {
		case data := <-c.frames:
			m, err := protocol.DecodeFromManager(data)
			Expect(err).NotTo(HaveOccurred())
			if _, ok := m.(*protocol.Authenticated); ok {
				return 0, append(frames, m)
			}
			frames = append(frames, m)
		case <-c.end:
			for len(c.frames) > 0 {
				m, err := protocol.DecodeFromManager(<-c.frames)
				Expect(err).NotTo(HaveOccurred())
				frames = append(frames, m)
			}
			Expect(c.closeCode()).NotTo(Equal(-1), "the connection ended without a close frame: %v", c.err)
			return c.closeCode(), frames
		case <-time.After(10 * time.Second):
			Fail("the manager neither authenticated nor closed the connection within 10 s")
		}
	}
}

func bearer(token, clientID string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + token}}
	if clientID != "" {
		h.Set(protocol.HeaderClientID, clientID)
	}
	return h
}

var refused = And(HaveLen(1), ContainElement(Equal(&protocol.AuthFailed{Reason: "invalid credentials"})))

var _ = Describe("A satellite's identity", func() {
	var (
		ctx    context.Context
		ns     string
		editor client.Client // may create Satellites in ns, but not read Secrets
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
		editor = testutil.SatelliteEditor(ctx, k8sClient, running.Env, running.Config, ns)
	})

	get := func(obj *v1alpha1.Satellite) *v1alpha1.Satellite {
		got := &v1alpha1.Satellite{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		return got
	}
	tokenReason := func(obj *v1alpha1.Satellite) func() string {
		return func() string {
			if c := meta.FindStatusCondition(get(obj).Status.Conditions, v1alpha1.ConditionTokenReady); c != nil {
				return c.Reason
			}
			return ""
		}
	}
	// notes returns the notes of the Events about obj with the reason.
	notes := func(obj *v1alpha1.Satellite, reason string) func() []string {
		return func() []string {
			list := &eventsv1.EventList{}
			Expect(k8sClient.List(ctx, list, client.InNamespace(obj.Namespace))).To(Succeed())
			var out []string
			for _, e := range list.Items {
				if e.Regarding.UID == obj.UID && e.Reason == reason {
					Expect(e.Type).To(Equal(corev1.EventTypeWarning))
					out = append(out, e.Note)
				}
			}
			return out
		}
	}
	withTokenSecret := func(namespace, name, secret string) *v1alpha1.Satellite {
		return &v1alpha1.Satellite{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec:       v1alpha1.SatelliteSpec{Region: "eu-west-1", TokenSecretRef: &v1alpha1.SecretReference{Name: secret}},
		}
	}
	createSecret := func(namespace, name, token string) {
		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Data:       map[string][]byte{v1alpha1.SecretKeyToken: []byte(token)},
		})).To(Succeed())
	}
	// noneAuthenticates tries every way of presenting token as either Satellite.
	noneAuthenticates := func(token string, sats ...*v1alpha1.Satellite) {
		GinkgoHelper()
		code, frames := attempt(bearer(token, ""), nil)
		Expect(code).To(Equal(http.StatusUnauthorized), "bearer alone")
		Expect(frames).To(BeEmpty())
		for _, sat := range sats {
			code, frames = attempt(bearer(token, string(sat.UID)), nil)
			Expect(code).To(Equal(http.StatusUnauthorized), "bearer with the client ID of %s", sat.Name)
			Expect(frames).To(BeEmpty())
			code, frames = attempt(nil, &protocol.Authenticate{ClientID: string(sat.UID), Token: token})
			Expect(code).To(Equal(protocol.CloseAuthFailed), "authenticate frame as %s", sat.Name)
			Expect(frames).To(refused)
		}
	}

	It("never lets a Satellite borrow another's token Secret, and gives the victim its token back when the borrower goes", func() {
		victim := createSatellite(ctx, ns, "victim", "eu-west-1", nil)
		c, _ := connect(victim)
		session := c
		defer session.close()

		borrower := withTokenSecret(ns, "borrower", victim.Obj.Name+"-token")
		Expect(editor.Create(ctx, borrower)).To(Succeed())

		By("both report the conflict, each naming the other")
		Eventually(tokenReason(borrower)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Eventually(tokenReason(victim.Obj)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Expect(meta.IsStatusConditionFalse(get(victim.Obj).Status.Conditions, v1alpha1.ConditionTokenReady)).To(BeTrue())
		Eventually(notes(borrower, v1alpha1.EventTokenSecretProblem)).Should(ConsistOf(ContainSubstring("Satellite victim")))
		Eventually(notes(victim.Obj, v1alpha1.EventTokenSecretProblem)).Should(ConsistOf(ContainSubstring("Satellite borrower")))

		By("the victim's live session ends, and the token authenticates neither")
		Eventually(session.end).Should(BeClosed())
		Expect(session.closeCode()).To(Equal(protocol.CloseAuthFailed))
		noneAuthenticates(victim.Token, victim.Obj, borrower)
		Expect(get(borrower).Status.ConnectedSince).To(BeNil())
		Expect(notes(borrower, v1alpha1.EventSatelliteOnline)()).To(BeEmpty())

		By("once the borrower is deleted, the victim's unchanged token works again")
		Expect(editor.Delete(ctx, borrower)).To(Succeed())
		Eventually(tokenReason(victim.Obj)).Should(Equal(v1alpha1.ReasonTokenGenerated))
		Expect(getToken(ctx, ns, victim.Obj.Name)).To(Equal(victim.Token))
		again, auth := connect(victim)
		Expect(auth.SatelliteID).To(Equal(victim.ClientID))
		again.alive()
		again.close()
		code, frames := attempt(bearer(victim.Token, ""), nil)
		Expect(code).To(BeZero(), "a bearer token alone names its satellite again")
		Expect(frames).To(ConsistOf(HaveField("SatelliteID", victim.ClientID)))
	})

	It("refuses a token that two Secrets of the namespace hold alike, for both of their Satellites", func() {
		token := newTokenValue()
		createSecret(ns, "first-token", token)
		createSecret(ns, "second-token", token)
		first := withTokenSecret(ns, "first", "first-token")
		Expect(editor.Create(ctx, first)).To(Succeed())
		Eventually(tokenReason(first)).Should(Equal(v1alpha1.ReasonTokenProvided))
		code, frames := attempt(bearer(token, string(first.UID)), nil)
		Expect(code).To(BeZero(), "the token is first's while it is unique")
		Expect(frames).To(ConsistOf(HaveField("SatelliteID", string(first.UID))))
		c, _ := connect(&satellite{Obj: first, ClientID: string(first.UID), Token: token})
		session := c
		defer session.close()

		second := withTokenSecret(ns, "second", "second-token")
		Expect(editor.Create(ctx, second)).To(Succeed())

		By("both report the conflict, each naming the other")
		Eventually(tokenReason(second)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Eventually(tokenReason(first)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Eventually(notes(second, v1alpha1.EventTokenSecretProblem)).Should(ConsistOf(ContainSubstring("Satellite first")))
		Eventually(notes(first, v1alpha1.EventTokenSecretProblem)).Should(ConsistOf(ContainSubstring("Satellite second")))

		By("the live session ends, and the token authenticates neither")
		Eventually(session.end).Should(BeClosed())
		Expect(session.closeCode()).To(Equal(protocol.CloseAuthFailed))
		noneAuthenticates(token, first, second)
		Expect(notes(second, v1alpha1.EventSatelliteOnline)()).To(BeEmpty())

		By("once the second is deleted, the first's token works again")
		Expect(editor.Delete(ctx, second)).To(Succeed())
		Eventually(tokenReason(first)).Should(Equal(v1alpha1.ReasonTokenProvided))
		code, frames = attempt(bearer(token, ""), nil)
		Expect(code).To(BeZero())
		Expect(frames).To(ConsistOf(HaveField("SatelliteID", string(first.UID))))
	})

	It("refuses a token that a Satellite of another namespace holds too, without naming it", func() {
		token := newTokenValue()
		other := newNamespace(ctx)
		createSecret(ns, "mine", token)
		createSecret(other, "theirs", token)
		mine := withTokenSecret(ns, "mine", "mine")
		Expect(editor.Create(ctx, mine)).To(Succeed())
		Eventually(tokenReason(mine)).Should(Equal(v1alpha1.ReasonTokenProvided))
		theirs := withTokenSecret(other, "theirs", "theirs")
		Expect(k8sClient.Create(ctx, theirs)).To(Succeed())

		Eventually(tokenReason(mine)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Eventually(tokenReason(theirs)).Should(Equal(v1alpha1.ReasonSecretConflict))
		Expect(meta.FindStatusCondition(get(mine).Status.Conditions, v1alpha1.ConditionTokenReady).Message).
			To(And(ContainSubstring("a Satellite in another namespace"), Not(ContainSubstring(other))))
		noneAuthenticates(token, mine, theirs)

		Expect(k8sClient.Delete(ctx, theirs)).To(Succeed())
		Eventually(tokenReason(mine)).Should(Equal(v1alpha1.ReasonTokenProvided))
		code, _ := attempt(bearer(token, string(mine.UID)), nil)
		Expect(code).To(BeZero())
	})

	It("takes a bearer token only for the satellite that X-Checkstack-Client-Id names", func() {
		a := createSatellite(ctx, ns, "a", "eu-west-1", nil)
		b := createSatellite(ctx, ns, "b", "eu-west-1", nil)

		c := dial(bearer(a.Token, a.ClientID))
		auth, ok := c.next().(*protocol.Authenticated)
		Expect(ok).To(BeTrue())
		Expect(auth.SatelliteID).To(Equal(a.ClientID))
		c.alive()
		c.close()

		// A bearer token is checked before the upgrade: a refusal is a 401, with nothing to read.
		code, frames := attempt(bearer(a.Token, b.ClientID), nil)
		Expect(code).To(Equal(http.StatusUnauthorized), "a's token presented for b")
		Expect(frames).To(BeEmpty())
		code, _ = attempt(bearer(a.Token, "6b0e1f0a-2c1d-4c55-8a8e-0d2f4b6a9c11"), nil)
		Expect(code).To(Equal(http.StatusUnauthorized), "an unknown client ID is answered like a wrong token")
		code, _ = attempt(bearer(a.Token, strings.Repeat("x", protocol.MaxClientIDBytes+1)), nil)
		Expect(code).To(Equal(http.StatusUnauthorized), "an oversized client ID")
		Expect(get(b.Obj).Status.ConnectedSince).To(BeNil())
	})

	It("closes a binary first frame with auth_failed and 1003, even when it holds valid credentials", func() {
		sat := createSatellite(ctx, ns, "binary", "eu-west-1", nil)
		frame, err := protocol.Encode(&protocol.Authenticate{ClientID: sat.ClientID, Token: sat.Token})
		Expect(err).NotTo(HaveOccurred())

		c := dial(nil)
		defer func() { _ = c.ws.Close() }()
		Expect(c.ws.WriteMessage(websocket.BinaryMessage, frame)).To(Succeed())
		code, frames := c.closed(5 * time.Second)
		Expect(code).To(Equal(websocket.CloseUnsupportedData))
		Expect(frames).To(ConsistOf(BeAssignableToTypeOf(&protocol.AuthFailed{})))
		Expect(get(sat.Obj).Status.ConnectedSince).To(BeNil())

		By("the same bytes in a text frame authenticate")
		text := dial(nil)
		text.sendRaw(frame)
		_, ok := text.next().(*protocol.Authenticated)
		Expect(ok).To(BeTrue())
		text.close()
	})
})

// newTokenValue returns a token as a user would generate one for a Secret of their own.
func newTokenValue() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "csat_" + base64.RawURLEncoding.EncodeToString(b)
}
