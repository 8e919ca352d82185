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

package presence

import (
	"encoding/json"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
)

// leaseNamePrefix keeps presence Leases apart from the other Leases of a namespace; a
// Satellite's name is at most 63 characters, so the Lease's fits.
const leaseNamePrefix = "satellite-"

// LeaseKey names the presence Lease of a Satellite.
func LeaseKey(satellite types.NamespacedName) types.NamespacedName {
	return types.NamespacedName{Namespace: satellite.Namespace, Name: leaseNamePrefix + satellite.Name}
}

// holder returns the replica that holds the Lease, or held it last.
func holder(lease *coordinationv1.Lease) string {
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// duration is how long after its last change the holder promises to write the Lease again.
func duration(lease *coordinationv1.Lease) time.Duration {
	return time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0)) * time.Second
}

// fill makes lease carry p as held (or, once the session ended, last held) by identity, with
// the duration the holder promises to write again within.
func fill(lease *coordinationv1.Lease, p fleet.Presence, identity string, renewInterval time.Duration) {
	key := LeaseKey(p.Key)
	lease.Namespace, lease.Name = key.Namespace, key.Name
	if lease.Labels == nil {
		lease.Labels = map[string]string{}
	}
	lease.Labels[v1alpha1.LabelPresenceSatellite] = p.Key.Name
	// Without blockOwnerDeletion: a Satellite's foreground deletion need not wait for its Lease,
	// and setting it would need update on satellites/finalizers where owner references'
	// permissions are enforced.
	lease.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       "Satellite",
		Name:       p.Key.Name,
		UID:        p.UID,
		Controller: ptr.To(true),
	}}
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[v1alpha1.AnnotationPresence] = p.State
	lease.Annotations[v1alpha1.AnnotationAgentKind] = string(p.Agent.Dialect)
	lease.Annotations[v1alpha1.AnnotationAgentCapabilities] = strings.Join(p.Agent.Capabilities, ",")
	if p.Version != "" {
		lease.Annotations[v1alpha1.AnnotationAgentVersion] = p.Version
	}
	if p.RemoteAddr != "" {
		lease.Annotations[v1alpha1.AnnotationRemoteAddress] = p.RemoteAddr
	}
	// Replicas merge their records of replacements here rather than overwrite each other's:
	// a replica whose cache is behind the Lease still keeps what another one recorded.
	if r := fleet.MergeReplacements(Replacements(lease), p.Replacements); len(r) > 0 {
		lease.Annotations[v1alpha1.AnnotationReplacements] = encodeTimes(r)
	}
	if p.ReplacedAddr != "" {
		lease.Annotations[v1alpha1.AnnotationReplacedAddress] = p.ReplacedAddr
	}
	// The last report of any replica stays until another one reports.
	if rc := p.RepeatedClose; rc != nil {
		if data, err := json.Marshal(rc); err == nil {
			lease.Annotations[v1alpha1.AnnotationRepeatedClose] = string(data)
		}
	}
	if views := encodeViews(p.Views); views != "" {
		lease.Annotations[v1alpha1.AnnotationViews] = views
	} else {
		delete(lease.Annotations, v1alpha1.AnnotationViews)
	}

	// The holder stays named once the session ended: it is who wrote the views, and who
	// served the satellite last.
	if before := holder(lease); before != "" && before != identity {
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	lease.Spec.HolderIdentity = ptr.To(identity)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32((p.Threshold + renewInterval + time.Second - 1) / time.Second))
	lease.Spec.AcquireTime = ptr.To(metav1.NewMicroTime(p.Since))
	lease.Spec.RenewTime = ptr.To(metav1.NewMicroTime(p.LastHeartbeat))
}

// newerElsewhere reports whether the Lease is held by another replica for a session that
// authenticated after since: that session supersedes this replica's, open or ended.
func newerElsewhere(lease *coordinationv1.Lease, identity string, since time.Time) bool {
	h := holder(lease)
	if h == "" || h == identity || lease.Spec.AcquireTime == nil {
		return false
	}
	return lease.Spec.AcquireTime.After(since.Truncate(time.Microsecond))
}

// live reports whether the Lease says its holder has the satellite's session open.
func live(lease *coordinationv1.Lease) bool {
	p := lease.Annotations[v1alpha1.AnnotationPresence]
	return p == v1alpha1.PresenceConnected || p == v1alpha1.PresenceSilent
}

// ownerUID returns the UID of the Satellite that owns the Lease, or "".
func ownerUID(lease *coordinationv1.Lease) types.UID {
	for _, o := range lease.OwnerReferences {
		if o.Kind == "Satellite" && strings.HasPrefix(o.APIVersion, v1alpha1.GroupVersion.Group+"/") {
			return o.UID
		}
	}
	return ""
}

// MaxViews bounds the views a presence Lease carries, so that it stays far below the API
// server's limit of 256 KiB of annotations: about 120 bytes each. A satellite with more
// assignments publishes the first MaxViews by assignment UID; the others reach the leader's
// status only when the leader holds the satellite's session.
const MaxViews = 1000

// encodeViews is the annotation form of views.
func encodeViews(views []fleet.PublishedView) string {
	if len(views) > MaxViews {
		views = views[:MaxViews]
	}
	if len(views) == 0 {
		return ""
	}
	data, err := json.Marshal(views)
	if err != nil {
		return "" // plain data: it cannot fail
	}
	return string(data)
}

// Views decodes the views a presence Lease carries; malformed ones yield none.
func Views(lease *coordinationv1.Lease) []fleet.PublishedView {
	data := lease.Annotations[v1alpha1.AnnotationViews]
	if data == "" {
		return nil
	}
	var views []fleet.PublishedView
	if err := json.Unmarshal([]byte(data), &views); err != nil {
		return nil
	}
	return views
}

// Replacements decodes the times of replaced sessions a presence Lease records, oldest first;
// malformed ones are skipped.
func Replacements(lease *coordinationv1.Lease) []time.Time {
	data := lease.Annotations[v1alpha1.AnnotationReplacements]
	if data == "" {
		return nil
	}
	var out []time.Time
	for field := range strings.SplitSeq(data, ",") {
		if t, err := time.Parse(time.RFC3339Nano, field); err == nil {
			out = append(out, t)
		}
	}
	return fleet.MergeReplacements(nil, out)
}

// encodeTimes is the annotation form of replacement times: exact to the nanosecond, so that a
// replica that reads its own record back finds the times it holds, not near copies of them.
func encodeTimes(times []time.Time) string {
	fields := make([]string, len(times))
	for i, t := range times {
		fields[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return strings.Join(fields, ",")
}

// RepeatedClose decodes the last run of the same close that a presence Lease records, or nil.
func RepeatedClose(lease *coordinationv1.Lease) *fleet.RepeatedClose {
	data := lease.Annotations[v1alpha1.AnnotationRepeatedClose]
	if data == "" {
		return nil
	}
	rc := &fleet.RepeatedClose{}
	if err := json.Unmarshal([]byte(data), rc); err != nil {
		return nil
	}
	return rc
}
