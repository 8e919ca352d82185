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

// Package testutil holds the fixtures the envtest suites share: namespaces, Satellites with
// their credentials, and a log buffer to search for secrets.
package testutil

import (
	"bytes"
	"context"
	"sync"

	. "github.com/onsi/gomega" //nolint:revive,staticcheck // fixtures assert like the specs that call them
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// NewNamespace creates a namespace of its own for one spec.
func NewNamespace(ctx context.Context, c client.Client) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	Expect(c.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// Satellite is a created Satellite and the credentials a user hands its agent.
type Satellite struct {
	Obj      *v1alpha1.Satellite
	ClientID string
	Token    string
}

// CreateSatellite creates obj and waits until the operator generated its token and the hub
// knows it (the same reconcile writes the first status).
func CreateSatellite(ctx context.Context, c client.Client, obj *v1alpha1.Satellite) *Satellite {
	Expect(c.Create(ctx, obj)).To(Succeed())
	secret := &corev1.Secret{}
	Eventually(func() error {
		return c.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name + "-token"}, secret)
	}).Should(Succeed())
	s := &Satellite{Obj: obj, ClientID: string(secret.Data[v1alpha1.SecretKeyClientID]), Token: string(secret.Data[v1alpha1.SecretKeyToken])}
	Eventually(func() v1alpha1.SatelliteState { return s.Get(ctx, c).Status.State }).Should(Equal(v1alpha1.SatelliteOffline))
	return s
}

// Get reads the Satellite as it is now.
func (s *Satellite) Get(ctx context.Context, c client.Client) *v1alpha1.Satellite {
	got := &v1alpha1.Satellite{}
	Expect(c.Get(ctx, client.ObjectKeyFromObject(s.Obj), got)).To(Succeed())
	return got
}

// LogBuffer collects logs, safe for concurrent writers, to prove no token is written there.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
