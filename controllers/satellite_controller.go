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

package controllers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/liveness"
	"github.com/checkstack/satellite-operator/internal/presence"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// tokenPrefix marks satellite tokens, so that a leaked one is easy to recognise and scan for.
const tokenPrefix = "csat_"

// tokenProblemPoll is how often a Satellite whose token Secret is missing or in conflict looks
// again: the manager caches only labelled Secrets, so it cannot watch an unlabelled one appear
// or go away.
const tokenProblemPoll = 30 * time.Second

// SatelliteFleet is the fleet's side of the SatelliteReconciler: it takes each Satellite's
// credentials and selection facts, and holds the heartbeats and relayed lists.
type SatelliteFleet interface {
	// UpsertSatellite records a Satellite's credentials and selection facts, and returns the
	// other Satellites, of any namespace, that hold the same token: while there are any, none of
	// them can authenticate. The fleet wakes the reconciler when that list changes.
	UpsertSatellite(fleet.SatelliteInfo) []types.NamespacedName
	// RemoveSatellite forgets a deleted Satellite and closes its session.
	RemoveSatellite(types.NamespacedName)
	// Relayed returns how many assignments are relayed to the satellite with this UID.
	Relayed(types.UID) (int, bool)
	// SatelliteEvents wakes the reconciler when a satellite connects, disconnects or changes
	// version.
	SatelliteEvents() <-chan event.TypedGenericEvent[*v1alpha1.Satellite]
}

// SatelliteReconciler keeps a Satellite's token Secret, its registration with the fleet and its
// Online state, which it judges from the satellite's presence Lease.
type SatelliteReconciler struct {
	client.Client
	// APIReader reads Secrets named by spec.tokenSecretRef, which the label-selected cache
	// may not hold yet.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Fleet     SatelliteFleet
	// Presence turns the satellites' presence Leases, read from the cache, into liveness facts.
	Presence *presence.Observer
	// Leader says whether this replica leads; nil means it always does.
	Leader Leadership
	// DisconnectGrace is how long a cleanly disconnected satellite stays Online.
	DisconnectGrace time.Duration
	// RefreshInterval is the least time between two writes of status.lastHeartbeatAt while
	// Online: the presence Lease carries the heartbeats, so this is coarse.
	RefreshInterval time.Duration

	// started is when the reconciler first ran, the start of its only term without an election.
	started sync.Once
	since   time.Time
}

// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=satellites,verbs=get;list;watch
// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=satellites/status,verbs=get;update;patch
// Secrets: list and watch feed the two label-selected caches (token Secrets, and Secrets that
// consent to checks); get reads a Secret named by spec.tokenSecretRef before it carries the token
// label; create and update write generated tokens and label provided ones. No patch, no delete:
// generated Secrets go with their Satellite through the owner reference. docs/security.md says more.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update
// Presence Leases: read from the cache by the leader, written by the replica that holds each
// session (package presence). No delete: a Lease goes with its Satellite through the owner
// reference.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile ensures the token Secret, then recomputes the satellite's liveness and writes the
// status only when it changed. It requeues at the next moment the state could change by itself.
// On a replica that does not lead it only tells the fleet what the cache holds (follow).
func (r *SatelliteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sat := &v1alpha1.Satellite{}
	if err := r.Get(ctx, req.NamespacedName, sat); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sat.DeletionTimestamp.IsZero() {
		r.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if !leads(r.Leader) {
		return ctrl.Result{}, r.follow(ctx, sat)
	}
	// controller-runtime's logger already names the object.
	log := logf.FromContext(ctx)

	tokenReady, token, err := r.reconcileToken(ctx, sat)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Liveness is judged before the fleet is told of the Satellite, so that the fleet learns its
	// state with the grace liveness gives (a clean disconnect, a new manager): assignments count
	// an Offline satellite as not reporting, and must not flap with a rolling restart.
	lease, err := r.presenceLease(ctx, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	threshold := time.Duration(sat.OfflineThreshold()) * time.Second
	since := r.trackingSince()
	in := liveness.Input{
		Status:          sat.Status,
		Generation:      sat.Generation,
		Facts:           r.Presence.Facts(sat.UID, lease, since),
		Now:             now,
		TrackingSince:   since,
		Threshold:       threshold,
		DisconnectGrace: r.DisconnectGrace,
		RefreshInterval: r.RefreshInterval,
		RefreshPhase:    r.refreshPhase(sat.UID),
	}
	out := liveness.Evaluate(in)
	if out.RefreshDeferred {
		controllerMetrics().refreshesDeferred.Inc()
	}
	shared := r.Fleet.UpsertSatellite(fleet.SatelliteInfo{
		Key:       req.NamespacedName,
		UID:       sat.UID,
		Region:    sat.Spec.Region,
		Labels:    sat.Labels,
		TokenHash: fleet.HashToken(token),
		HasToken:  len(token) > 0,
		Offline:   out.Status.State != v1alpha1.SatelliteOnline,

		OfflineThreshold: threshold,
	})
	if len(shared) > 0 {
		// Two Secrets with the same token: the fleet refuses it for all of its holders.
		tokenReady = tokenProblem(v1alpha1.ReasonSecretConflict, sharedTokenMessage(sat, shared))
	}
	tokenReady.ObservedGeneration = sat.Generation
	tokenReady.LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
	// Announced once per reason, after the write: a reconcile that read a stale status loses its
	// optimistic lock below, so it cannot announce the same problem a second time.
	announceToken := tokenReady.Status != metav1.ConditionTrue
	if c := meta.FindStatusCondition(sat.Status.Conditions, v1alpha1.ConditionTokenReady); c != nil && c.Reason == tokenReady.Reason {
		announceToken = false
	}
	meta.SetStatusCondition(&out.Status.Conditions, tokenReady)
	if in.Facts != nil {
		if agent := presence.Agent(lease); agent != nil {
			out.Status.Agent = agent
		}
	}

	// The number of relayed assignments rides along with a write that is due anyway (at most
	// one per report interval while Online): one kubectl apply that selects N satellites must
	// not cost N writes.
	out.Status.Assignments = sat.Status.Assignments
	if !equality.Semantic.DeepEqual(sat.Status, out.Status) {
		if n, ok := r.Fleet.Relayed(sat.UID); ok {
			out.Status.Assignments = int32(n)
		}
		before := sat.DeepCopy()
		sat.Status = out.Status
		if patched, err := patchStatus(ctx, r.Client, before, sat); !patched {
			return ctrl.Result{}, err
		}
		log.V(1).Info("Updated status", "state", out.Status.State)
	}
	controllerMetrics().setSatellite(req.NamespacedName, sat.Spec.Region, sat.Status.State)
	if announceToken {
		r.Recorder.Eventf(sat, nil, corev1.EventTypeWarning, v1alpha1.EventTokenSecretProblem, "CheckToken", "%s", tokenReady.Message)
	}
	if rc, ok := r.Presence.TakeRepeatedClose(sat.UID, lease, since); ok {
		r.Recorder.Eventf(sat, nil, corev1.EventTypeWarning, v1alpha1.EventRepeatedClose, "CloseSession",
			"The manager closed the satellite's session %d times in a row with code %d (%s); the agent keeps doing what gets it closed",
			rc.Count, rc.Code, rc.Reason)
	}
	if d, ok := r.Presence.TakeHoldDown(sat.UID, lease, since); ok {
		r.Recorder.Eventf(sat, nil, corev1.EventTypeWarning, v1alpha1.EventDuplicateSatellite, "RefuseSession",
			"Agents at %s and %s share this satellite's identity and replaced each other's session %d times within %d s: the manager keeps the one at %s and refuses the others with close %d until %s. Give each agent a Satellite of its own",
			d.Kept, d.Replaced, fleet.DuplicateReplacements, int(fleet.DuplicateWindow.Seconds()), d.Kept, protocol.CloseDuplicate, d.Until.UTC().Format(time.RFC3339))
	}
	if out.Event != nil {
		r.Recorder.Eventf(sat, nil, out.Event.Type, out.Event.Reason, "Heartbeat", "%s", out.Event.Message)
		log.Info("Satellite changed state", "state", out.Status.State, "reason", out.Event.Reason)
	}

	requeue := out.RequeueAfter
	if tokenReady.Status != metav1.ConditionTrue && (requeue == 0 || requeue > tokenProblemPoll) {
		requeue = tokenProblemPoll
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// refreshPhase places the satellite's lastHeartbeatAt refreshes within the refresh interval,
// stably by UID. A fleet that connected at once (after a restart) otherwise refreshes in one
// burst every interval, and a burst of thousands of writes delays the transitions queued behind it.
func (r *SatelliteReconciler) refreshPhase(uid types.UID) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(uid))
	return time.Duration(h.Sum32()%4096) * r.RefreshInterval / 4096
}

// follow tells the fleet of a replica that does not lead what the cache holds of the Satellite:
// its credentials, so that it can serve the satellite, and the state the leader judged, so that
// its assignments count it as the leader does. It writes nothing: the leader creates and labels
// the token Secrets, and this replica's cache sees them once it has.
func (r *SatelliteReconciler) follow(ctx context.Context, sat *v1alpha1.Satellite) error {
	token, err := r.cachedToken(ctx, sat)
	if err != nil {
		return err
	}
	r.Fleet.UpsertSatellite(fleet.SatelliteInfo{
		Key:              client.ObjectKeyFromObject(sat),
		UID:              sat.UID,
		Region:           sat.Spec.Region,
		Labels:           sat.Labels,
		TokenHash:        fleet.HashToken(token),
		HasToken:         len(token) > 0,
		Offline:          sat.Status.State != v1alpha1.SatelliteOnline,
		OfflineThreshold: time.Duration(sat.OfflineThreshold()) * time.Second,
	})
	// The state the leader wrote, so that a replica that led before never serves a state that
	// is no longer true, and an alert takes any replica's word.
	if sat.Status.State != "" {
		controllerMetrics().setSatellite(client.ObjectKeyFromObject(sat), sat.Spec.Region, sat.Status.State)
	}
	return nil
}

// cachedToken returns the satellite's token as the leader left it in the cache, or nil when the
// leader has not made it usable: the TokenReady condition is the leader's verdict on the Secret
// (owned, not shared, holding a token), and the Secret it names must hold this satellite's token.
func (r *SatelliteReconciler) cachedToken(ctx context.Context, sat *v1alpha1.Satellite) ([]byte, error) {
	if !meta.IsStatusConditionTrue(sat.Status.Conditions, v1alpha1.ConditionTokenReady) {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: sat.TokenSecretName()}, secret); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if sat.Spec.TokenSecretRef == nil && (!metav1.IsControlledBy(secret, sat) || string(secret.Data[v1alpha1.SecretKeyClientID]) != string(sat.UID)) {
		return nil, nil
	}
	return secret.Data[v1alpha1.SecretKeyToken], nil
}

// trackingSince is when this replica began to judge the satellites: its term's start, or its
// first reconcile without an election.
func (r *SatelliteReconciler) trackingSince() time.Time {
	if r.Leader != nil {
		return r.Leader.TermStart()
	}
	r.started.Do(func() { r.since = r.Clock.Now() })
	return r.since
}

// presenceLease returns the satellite's presence Lease from the cache, or nil while it has none.
func (r *SatelliteReconciler) presenceLease(ctx context.Context, satellite types.NamespacedName) (*coordinationv1.Lease, error) {
	lease := &coordinationv1.Lease{}
	if err := r.Get(ctx, presence.LeaseKey(satellite), lease); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the presence Lease: %w", err)
	}
	return lease, nil
}

// forget drops everything held of a deleted Satellite.
func (r *SatelliteReconciler) forget(key types.NamespacedName) {
	r.Fleet.RemoveSatellite(key)
	r.Presence.Forget(key)
	controllerMetrics().forgetSatellite(key)
}

// reconcileToken makes sure the satellite has a token and returns its TokenReady condition and
// the token, which is nil when there is none.
func (r *SatelliteReconciler) reconcileToken(ctx context.Context, sat *v1alpha1.Satellite) (metav1.Condition, []byte, error) {
	// A Secret is the token of one Satellite at most. Asked before the Secret is read, let alone
	// labelled or written: when another Satellite claims it too, it is nobody's token, and both
	// Satellites say so until one of them lets go (which wakes the other, satellitesSharingSecret).
	others, err := r.secretSharers(ctx, sat)
	if err != nil {
		return metav1.Condition{}, nil, err
	}
	if len(others) > 0 {
		return tokenProblem(v1alpha1.ReasonSecretConflict, fmt.Sprintf(
			"Secret %s is also the token Secret of Satellite %s: none of them can authenticate until each has a Secret of its own",
			sat.TokenSecretName(), strings.Join(others, ", "))), nil, nil
	}
	if sat.Spec.TokenSecretRef != nil {
		return r.reconcileProvidedToken(ctx, sat)
	}
	return r.reconcileGeneratedToken(ctx, sat)
}

// reconcileGeneratedToken creates the owned Secret <name>-token, and replaces its token when the
// rotate-token annotation takes a value not handled yet.
func (r *SatelliteReconciler) reconcileGeneratedToken(ctx context.Context, sat *v1alpha1.Satellite) (metav1.Condition, []byte, error) {
	log := logf.FromContext(ctx)
	name := sat.TokenSecretName()
	rotateTo := sat.Annotations[v1alpha1.AnnotationRotateToken]
	ready := tokenReadyCondition(metav1.ConditionTrue, v1alpha1.ReasonTokenGenerated, fmt.Sprintf("The token is in Secret %s", name))

	secret := &corev1.Secret{}
	err := r.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		// The cache holds only Secrets labelled as tokens, and may not hold yet the one the last
		// reconcile created: the API server says whether it exists. Taken for missing, it would
		// be created again, refused, and reported as a conflict, and the fleet would refuse the
		// satellite's token until the next reconcile.
		err = r.APIReader.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: name}, secret)
	}
	switch {
	case apierrors.IsNotFound(err):
		token, err := newToken()
		if err != nil {
			return metav1.Condition{}, nil, err
		}
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:   sat.Namespace,
				Name:        name,
				Labels:      map[string]string{v1alpha1.LabelTokenSecret: "true"},
				Annotations: map[string]string{v1alpha1.AnnotationRotatedFor: rotateTo},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{v1alpha1.SecretKeyToken: []byte(token), v1alpha1.SecretKeyClientID: []byte(sat.UID)},
		}
		if err := controllerutil.SetControllerReference(sat, secret, r.Scheme()); err != nil {
			return metav1.Condition{}, nil, fmt.Errorf("setting owner of token Secret: %w", err)
		}
		if err := r.Create(ctx, secret); err != nil {
			// AlreadyExists: created since it was read; the retry reads it.
			return metav1.Condition{}, nil, fmt.Errorf("creating token Secret: %w", err)
		}
		log.Info("Generated token", "secret", klog.KObj(secret))
		r.Recorder.Eventf(sat, secret, corev1.EventTypeNormal, v1alpha1.EventTokenGenerated, "GenerateToken",
			"Generated a token into Secret %s", name)
		return ready, []byte(token), nil
	case err != nil:
		return metav1.Condition{}, nil, fmt.Errorf("reading token Secret: %w", err)
	}

	if !metav1.IsControlledBy(secret, sat) {
		return tokenProblem(v1alpha1.ReasonSecretConflict,
			fmt.Sprintf("Secret %s exists and is not owned by this Satellite; delete it or set spec.tokenSecretRef", name)), nil, nil
	}
	rotate := rotateTo != "" && rotateTo != secret.Annotations[v1alpha1.AnnotationRotatedFor]
	if !rotate && len(secret.Data[v1alpha1.SecretKeyToken]) > 0 && string(secret.Data[v1alpha1.SecretKeyClientID]) == string(sat.UID) {
		return ready, secret.Data[v1alpha1.SecretKeyToken], nil
	}

	updated := secret.DeepCopy()
	if updated.Data == nil {
		updated.Data = map[string][]byte{}
	}
	if rotate || len(updated.Data[v1alpha1.SecretKeyToken]) == 0 {
		token, err := newToken()
		if err != nil {
			return metav1.Condition{}, nil, err
		}
		updated.Data[v1alpha1.SecretKeyToken] = []byte(token)
	}
	updated.Data[v1alpha1.SecretKeyClientID] = []byte(sat.UID)
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	updated.Annotations[v1alpha1.AnnotationRotatedFor] = rotateTo
	// Update carries the resourceVersion: a concurrent change makes it fail rather than rotate twice.
	if err := r.Update(ctx, updated); err != nil {
		return metav1.Condition{}, nil, fmt.Errorf("updating token Secret: %w", err)
	}
	if rotate {
		log.Info("Rotated token", "secret", klog.KObj(secret))
		r.Recorder.Eventf(sat, secret, corev1.EventTypeNormal, v1alpha1.EventTokenRotated, "RotateToken",
			"Rotated the token in Secret %s", name)
	}
	return ready, updated.Data[v1alpha1.SecretKeyToken], nil
}

// reconcileProvidedToken checks the Secret named by spec.tokenSecretRef and labels it, so that
// the manager's label-selected cache (and so the fleet) sees it.
func (r *SatelliteReconciler) reconcileProvidedToken(ctx context.Context, sat *v1alpha1.Satellite) (metav1.Condition, []byte, error) {
	name := sat.TokenSecretName()
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: sat.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return tokenProblem(v1alpha1.ReasonSecretNotFound,
				fmt.Sprintf("Secret %s named by spec.tokenSecretRef does not exist", name)), nil, nil
		}
		return metav1.Condition{}, nil, fmt.Errorf("reading Secret named by spec.tokenSecretRef: %w", err)
	}
	// Another Satellite's generated Secret stays its own even when that Satellite no longer uses
	// it (it moved to a tokenSecretRef), and is not relabelled on behalf of another.
	if owner := ownerSatellite(secret); owner != nil && owner.UID != sat.UID {
		return tokenProblem(v1alpha1.ReasonSecretConflict, fmt.Sprintf(
			"Secret %s named by spec.tokenSecretRef is owned by Satellite %s: give this Satellite a Secret of its own", name, owner.Name)), nil, nil
	}
	// Labelled first, even when invalid, so that the cache sees the Secret and its fix.
	// An update, not a patch, so that the role needs one write verb less; the resourceVersion just
	// read makes a concurrent change fail and retry rather than be overwritten.
	if secret.Labels[v1alpha1.LabelTokenSecret] != "true" {
		if secret.Labels == nil {
			secret.Labels = map[string]string{}
		}
		secret.Labels[v1alpha1.LabelTokenSecret] = "true"
		if err := r.Update(ctx, secret); err != nil {
			return metav1.Condition{}, nil, fmt.Errorf("labelling Secret named by spec.tokenSecretRef: %w", err)
		}
	}
	if len(secret.Data[v1alpha1.SecretKeyToken]) == 0 {
		return tokenProblem(v1alpha1.ReasonSecretInvalid,
			fmt.Sprintf("Secret %s named by spec.tokenSecretRef has no key %q", name, v1alpha1.SecretKeyToken)), nil, nil
	}
	return tokenReadyCondition(metav1.ConditionTrue, v1alpha1.ReasonTokenProvided, fmt.Sprintf("The token is in Secret %s", name)), secret.Data[v1alpha1.SecretKeyToken], nil
}

// tokenProblem returns a false TokenReady condition; Reconcile announces it once written.
func tokenProblem(reason, message string) metav1.Condition {
	return tokenReadyCondition(metav1.ConditionFalse, reason, message)
}

func tokenReadyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionTokenReady, Status: status, Reason: reason, Message: message}
}

// newToken returns csat_ followed by 32 random bytes in unpadded base64url.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// secretSharers returns the names of the other Satellites of the namespace whose token Secret
// (generated or named by spec.tokenSecretRef) is this one's, from the cache.
func (r *SatelliteReconciler) secretSharers(ctx context.Context, sat *v1alpha1.Satellite) ([]string, error) {
	list := &v1alpha1.SatelliteList{}
	if err := r.List(ctx, list, client.InNamespace(sat.Namespace), client.MatchingFields{tokenSecretIndex: sat.TokenSecretName()}); err != nil {
		return nil, fmt.Errorf("listing Satellites that use Secret %s: %w", sat.TokenSecretName(), err)
	}
	var names []string
	for i := range list.Items {
		// One being deleted lets go already, so that its victim works again at once.
		if other := &list.Items[i]; other.UID != sat.UID && other.DeletionTimestamp.IsZero() {
			names = append(names, other.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// ownerSatellite returns the Satellite that controls the Secret, if one does.
func ownerSatellite(secret *corev1.Secret) *metav1.OwnerReference {
	owner := metav1.GetControllerOf(secret)
	if owner == nil || owner.Kind != "Satellite" || !strings.HasPrefix(owner.APIVersion, v1alpha1.GroupVersion.Group+"/") {
		return nil
	}
	return owner
}

// sharedTokenMessage names the Satellites of the namespace that hold the same token, and only
// counts those of other namespaces: their names are none of this namespace's business.
func sharedTokenMessage(sat *v1alpha1.Satellite, shared []types.NamespacedName) string {
	var here []string
	elsewhere := 0
	for _, key := range shared {
		if key.Namespace == sat.Namespace {
			here = append(here, key.Name)
		} else {
			elsewhere++
		}
	}
	slices.Sort(here)
	var holders []string
	if len(here) > 0 {
		holders = append(holders, "Satellite "+strings.Join(here, ", "))
	}
	switch {
	case elsewhere == 1:
		holders = append(holders, "a Satellite in another namespace")
	case elsewhere > 1:
		holders = append(holders, fmt.Sprintf("%d Satellites in other namespaces", elsewhere))
	}
	return fmt.Sprintf("The token in Secret %s is also the token of %s: none of them can authenticate until each has a token of its own",
		sat.TokenSecretName(), strings.Join(holders, " and "))
}

// tokenSecretIndex indexes Satellites by the name of their token Secret, generated or named by
// spec.tokenSecretRef.
const tokenSecretIndex = "tokenSecretName"

// SetupWithManager registers the reconciler: it watches Satellites, their generated and provided
// token Secrets, and the fleet's connect and disconnect facts.
func (r *SatelliteReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.Satellite{}, tokenSecretIndex, func(obj client.Object) []string {
		return []string{obj.(*v1alpha1.Satellite).TokenSecretName()}
	}); err != nil {
		return fmt.Errorf("indexing Satellites by token Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Satellite{}).
		Owns(&corev1.Secret{}).
		// The presence Lease carries the satellite's liveness, written by the replica that holds
		// its session.
		Owns(&coordinationv1.Lease{}).
		// A provided token Secret is labelled (so cached) on the first reconcile; its changes,
		// such as a rotation by its owner, then reach the fleet through here.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.satellitesUsingSecret)).
		// A Satellite that starts or stops using a Secret changes whether the others that use it
		// are in conflict. Status writes do not change the generation, so they are not mapped.
		Watches(&v1alpha1.Satellite{}, handler.EnqueueRequestsFromMapFunc(r.satellitesSharingSecret),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.Fleet.SatelliteEvents(), &handler.TypedEnqueueRequestForObject[*v1alpha1.Satellite]{})).
		Named("satellite").
		// A first-in first-out queue, not controller-runtime's priority queue: that one takes the
		// initial list last, behind every wake-up and status event. For this reconciler the initial
		// list is how a restarted manager learns the Satellites' credentials, and at 10,000
		// Satellites the writes of those already back starved it for minutes, while the others
		// were told 1013 and went Offline.
		// Every replica runs it; Reconcile does nothing where the replica does not lead (Leader).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency, UsePriorityQueue: ptr.To(false), NeedLeaderElection: ptr.To(false)}).
		Complete(r)
}

func (r *SatelliteReconciler) satellitesUsingSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.satellitesWithTokenSecret(ctx, obj.GetNamespace(), obj.GetName())
}

// satellitesSharingSecret maps a Satellite (created, changed, or deleted) to the Satellites whose
// token Secret is, or was, its own; the old and the new object of an update are both mapped.
func (r *SatelliteReconciler) satellitesSharingSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.satellitesWithTokenSecret(ctx, obj.GetNamespace(), obj.(*v1alpha1.Satellite).TokenSecretName())
}

func (r *SatelliteReconciler) satellitesWithTokenSecret(ctx context.Context, namespace, secret string) []reconcile.Request {
	list := &v1alpha1.SatelliteList{}
	if err := r.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{tokenSecretIndex: secret}); err != nil {
		logf.FromContext(ctx).Error(err, "Listing Satellites for a token Secret")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, s := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
	}
	return reqs
}
