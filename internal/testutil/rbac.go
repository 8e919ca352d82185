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

package testutil

import (
	"context"

	. "github.com/onsi/gomega" //nolint:revive,staticcheck // fixtures assert like the specs that call them
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

// SatelliteEditor returns a client of a user of its own who, in namespace ns, may create, read,
// change and delete Satellites and nothing else: in particular, not read Secrets. It is who the
// operator must not let borrow another satellite's identity. admin is a client with every
// right, env and cfg the running control plane.
func SatelliteEditor(ctx context.Context, admin client.Client, env *envtest.Environment, cfg *rest.Config, ns string) client.Client {
	name := "satellite-editor-" + ns
	user, err := env.AddUser(envtest.User{Name: name}, cfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(admin.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"satellites"},
			Verbs:     []string{"create", "get", "list", "watch", "update", "patch", "delete"},
		}},
	})).To(Succeed())
	Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
	})).To(Succeed())
	c, err := client.New(user.Config(), client.Options{Scheme: admin.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	// The authorizer learns of the binding through its own watch.
	Eventually(func() error { return c.List(ctx, &v1alpha1.SatelliteList{}, client.InNamespace(ns)) }).Should(Succeed())
	err = c.List(ctx, &corev1.SecretList{}, client.InNamespace(ns))
	Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the user must not read Secrets, got %v", err)
	return c
}
