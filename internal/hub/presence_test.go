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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/presence"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// otherReplica names a replica that the specs play: they write its Leases by hand.
const otherReplica = "satellite-operator-other_replica"

var _ = Describe("Presence Leases", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	getLease := func(s *satellite) func() (*coordinationv1.Lease, error) {
		return func() (*coordinationv1.Lease, error) {
			lease := &coordinationv1.Lease{}
			err := k8sClient.Get(ctx, presence.LeaseKey(client.ObjectKeyFromObject(s.Obj)), lease)
			return lease, err
		}
	}
	presenceOf := func(l *coordinationv1.Lease) string { return l.Annotations[v1alpha1.AnnotationPresence] }
	onlineReason := func(s *satellite) func() string {
		return func() string {
			c := meta.FindStatusCondition(getSatellite(ctx, s).Status.Conditions, v1alpha1.ConditionOnline)
			if c == nil {
				return ""
			}
			return c.Reason
		}
	}

	It("carry a session in a Lease owned by the Satellite, from connect to a clean close", func() {
		sat := createSatellite(ctx, ns, "leased", "eu-west-1", nil)
		c, _ := connect(sat)
		c.send(&protocol.Heartbeat{Version: "0.4.0"})
		c.heartbeats(500 * time.Millisecond)

		Eventually(getLease(sat)).Should(And(
			WithTransform(presenceOf, Equal(v1alpha1.PresenceConnected)),
			HaveField("Annotations", HaveKeyWithValue(v1alpha1.AnnotationAgentVersion, "0.4.0")),
			HaveField("Labels", HaveKeyWithValue(v1alpha1.LabelPresenceSatellite, "leased")),
		))
		lease, _ := getLease(sat)()
		Expect(lease.Spec.HolderIdentity).To(HaveValue(Equal(running.Operator.Identity)))
		// The offline threshold (5 s) and the renew interval (10/9 of the 2 s report interval),
		// in whole seconds up: the holder writes again within that, or it is gone.
		Expect(lease.Spec.LeaseDurationSeconds).To(HaveValue(BeEquivalentTo(8)))
		Expect(lease.Spec.AcquireTime).NotTo(BeNil())
		Expect(lease.OwnerReferences).To(ConsistOf(HaveField("UID", sat.Obj.UID)))
		Expect(metav1.IsControlledBy(lease, getSatellite(ctx, sat))).To(BeTrue())
		Eventually(satelliteState(ctx, sat)).Should(Equal(v1alpha1.SatelliteOnline))
		Expect(getSatellite(ctx, sat).Status.Agent).NotTo(BeNil())

		By("closing the session cleanly")
		c.close()
		Eventually(getLease(sat)).Should(And(
			WithTransform(presenceOf, Equal(v1alpha1.PresenceDisconnected)),
			HaveField("Spec.HolderIdentity", HaveValue(Equal(running.Operator.Identity))),
		))
		Eventually(satelliteState(ctx, sat)).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(onlineReason(sat)()).To(Equal(v1alpha1.ReasonDisconnected))
		Expect(getSatellite(ctx, sat).Status.LastSeenAt).NotTo(BeNil(), "an Offline satellite says when it was last seen")
	})

	It("judge a satellite by a Lease that another replica holds, and Offline once it stops renewing", func() {
		sat := createSatellite(ctx, ns, "elsewhere", "eu-west-1", nil)
		now := metav1.NowMicro()
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: presence.LeaseKey(client.ObjectKeyFromObject(sat.Obj)).Name,
				Labels:      map[string]string{v1alpha1.LabelPresenceSatellite: sat.Obj.Name},
				Annotations: map[string]string{v1alpha1.AnnotationPresence: v1alpha1.PresenceConnected, v1alpha1.AnnotationAgentVersion: "9.9.9"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Satellite",
					Name: sat.Obj.Name, UID: sat.Obj.UID, Controller: ptr.To(true)}},
			},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(otherReplica), LeaseDurationSeconds: ptr.To[int32](3),
				AcquireTime: &now, RenewTime: &now},
		}
		Expect(k8sClient.Create(ctx, lease)).To(Succeed())

		// No session here: the Lease alone makes it Online, with the version its holder saw.
		Eventually(satelliteState(ctx, sat)).Should(Equal(v1alpha1.SatelliteOnline))
		Expect(getSatellite(ctx, sat).Status.Version).To(Equal("9.9.9"))
		Expect(getSatellite(ctx, sat).Status.LastSeenAt).To(BeNil(), "an Online satellite shows no age")
		Eventually(func() int { return countEvents(ctx, sat.Obj, v1alpha1.EventSatelliteOnline) }).Should(Equal(1))

		// The holder renews no more: Offline once the Lease's duration has passed, by this
		// replica's clock.
		Eventually(satelliteState(ctx, sat)).WithTimeout(30 * time.Second).Should(Equal(v1alpha1.SatelliteOffline))
		Expect(onlineReason(sat)()).To(Equal(v1alpha1.ReasonHeartbeatTimeout))
		Eventually(func() int { return countEvents(ctx, sat.Obj, v1alpha1.EventSatelliteOffline) }).Should(Equal(1))
		Expect(countEvents(ctx, sat.Obj, v1alpha1.EventSatelliteOnline)).To(Equal(1))
	})

	It("close a session here when another replica takes the Lease for a newer session", func() {
		sat := createSatellite(ctx, ns, "moved", "eu-west-1", nil)
		c, _ := connect(sat)
		c.heartbeats(500 * time.Millisecond)
		Eventually(getLease(sat)).Should(HaveField("Spec.HolderIdentity", HaveValue(Equal(running.Operator.Identity))))
		Eventually(satelliteState(ctx, sat)).Should(Equal(v1alpha1.SatelliteOnline))

		By("writing the Lease as another replica whose session began after this one's")
		Eventually(func() error {
			lease, err := getLease(sat)()
			if err != nil {
				return err
			}
			now := metav1.NowMicro()
			lease.Spec.HolderIdentity = ptr.To(otherReplica)
			lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
			lease.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
			return k8sClient.Update(ctx, lease)
		}).Should(Succeed())

		code, frames := c.closed(10 * time.Second)
		Expect(code).To(Equal(protocol.CloseReplaced))
		Expect(frames).To(ContainElement(&protocol.Shutdown{Reason: protocol.ShutdownReplaced}))
		// This replica leaves the Lease to the other, and the satellite, which moved, stays
		// Online without an Event.
		Consistently(getLease(sat)).WithTimeout(2 * time.Second).Should(HaveField("Spec.HolderIdentity", HaveValue(Equal(otherReplica))))
		Expect(satelliteState(ctx, sat)()).To(Equal(v1alpha1.SatelliteOnline))
		Expect(countEvents(ctx, sat.Obj, v1alpha1.EventSatelliteOffline)).To(Equal(0))
	})
})
