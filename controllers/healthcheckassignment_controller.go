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
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// AssignmentFleet is the fleet's side of the HealthCheckAssignmentReconciler.
type AssignmentFleet interface {
	// UpsertAssignment relays an assignment to the satellites it selects.
	UpsertAssignment(fleet.AssignmentInfo) error
	// RemoveAssignment stops relaying it.
	RemoveAssignment(types.NamespacedName)
	// Report summarises the satellites' views of the assignment with this UID.
	Report(uid types.UID, maxListed int) (fleet.Report, bool)
	// Unknown counts the Satellites of uids that the fleet does not hold yet.
	Unknown(uids []types.UID) int
	// AssignmentEvents wakes the reconciler when results or its satellites change its status.
	AssignmentEvents() <-chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]
}

// fleetLoadWait is how long after the reconciler's start (startedAt) a new assignment waits for
// the Satellites it selects to reach the fleet (satellitesPending).
const fleetLoadWait = 30 * time.Second

// startedAt is when the reconciler began to reconcile as the leader: the start of the current
// term, which may follow Satellites created while another replica led, or else its first
// reconcile.
func (r *HealthCheckAssignmentReconciler) startedAt() time.Time {
	if r.Leader != nil {
		return r.Leader.TermStart()
	}
	r.startOnce.Do(func() { r.started = r.Clock.Now() })
	return r.started
}

// maxListedSatellites and maxListedRegions bound the status, so that it stays far below the API
// server's request limit at any selection size: 100 entries of at most about 1.3 KiB each, and
// 256 region counts.
const (
	maxListedSatellites = 100
	maxListedRegions    = 256
)

// HealthCheckAssignmentReconciler relays each assignment to the satellites it selects and
// aggregates their results into its status.
type HealthCheckAssignmentReconciler struct {
	// Client reads through the manager's cache, whose only Secrets are the token Secrets.
	client.Client
	// CheckSecrets caches the Secrets that consent to checks (label LabelCheckSecret "true"): the
	// only Secrets whose values the reconciler reads, so that writing an assignment grants no
	// read of a Secret its owner did not offer.
	CheckSecrets cache.Cache
	Recorder     events.EventRecorder
	Clock        clock.PassiveClock
	Fleet        AssignmentFleet
	// Leader says whether this replica leads; nil means it always does.
	Leader Leadership

	startOnce sync.Once
	started   time.Time
}

// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=healthcheckassignments,verbs=get;list;watch
// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=healthcheckassignments/status,verbs=get;update;patch

// Reconcile relays the assignment, then writes its status when it changed. A replica that does
// not lead relays it too, to the satellites it serves, and writes nothing.
func (r *HealthCheckAssignmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hca := &v1alpha1.HealthCheckAssignment{}
	if err := r.Get(ctx, req.NamespacedName, hca); err != nil {
		if apierrors.IsNotFound(err) {
			r.Fleet.RemoveAssignment(req.NamespacedName)
			controllerMetrics().forgetAssignment(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hca.DeletionTimestamp.IsZero() {
		r.Fleet.RemoveAssignment(req.NamespacedName)
		controllerMetrics().forgetAssignment(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	// controller-runtime's logger already names the object.
	log := logf.FromContext(ctx)

	status := hca.Status.DeepCopy()
	status.ObservedGeneration = hca.Generation
	ready, err := r.relay(ctx, hca)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !leads(r.Leader) {
		// Every replica serves the state the leader wrote, so that a replica that led before
		// never serves a state that is no longer true, and an alert takes any replica's word.
		if s := &hca.Status; s.State != "" {
			offline := int32(0)
			if s.Summary != nil {
				offline = s.Summary.Offline
			}
			controllerMetrics().setAssignmentState(req.NamespacedName, hca.Spec.System, s.State, s.SelectedSatellites, offline)
		}
		return ctrl.Result{}, nil
	}
	// Relayed already, so that results the satellites resend are taken; judged only once the
	// fleet holds the Satellites it selects.
	if wait, err := r.satellitesPending(ctx, hca); err != nil || wait {
		return ctrl.Result{RequeueAfter: satellitesPendingRetry}, err
	}
	report, relayed := r.Fleet.Report(hca.UID, maxListedSatellites)
	applyReport(status, report)
	status.State = report.Counts.State(hca.Spec.Thresholds.Quorum)
	switch {
	case hca.Spec.Paused:
		status.State = v1alpha1.CheckPaused
	case !relayed:
		status.State = v1alpha1.CheckUnknown
	}
	if relayed && ready.Reason == v1alpha1.ReasonRelayed {
		ready = selectionCondition(report)
	}
	if notRelayable := notRelayableCondition(ready, report); notRelayable != nil {
		ready = *notRelayable
	}
	ready.ObservedGeneration = hca.Generation
	ready.LastTransitionTime = metav1.NewTime(r.Clock.Now().Truncate(time.Second))
	var readyBefore string
	if c := meta.FindStatusCondition(hca.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		readyBefore = c.Reason
	}
	meta.SetStatusCondition(&status.Conditions, ready)
	controllerMetrics().setAssignmentState(req.NamespacedName, hca.Spec.System, status.State, report.Selected, report.Counts.Offline)
	// A view turns stale by itself: look again then.
	requeue := report.NextStale

	if !equality.Semantic.DeepEqual(hca.Status, *status) {
		before := hca.DeepCopy()
		hca.Status = *status
		if patched, err := patchStatus(ctx, r.Client, before, hca); !patched {
			return ctrl.Result{}, err
		}
		// Announced once per reason, after the write: a reconcile that read a stale status loses
		// its optimistic lock above, so it cannot announce the same reason a second time.
		if ready.Reason != readyBefore && ready.Reason != v1alpha1.ReasonRelayed {
			r.Recorder.Eventf(hca, nil, corev1.EventTypeWarning, ready.Reason, "Relay", "%s", truncate(ready.Message, maxEventMessage))
			log.Info("Check is not relayed as it should be", "reason", ready.Reason)
		}
		if reason, eventType := checkEvent(before.Status.State, status.State); reason != "" {
			r.Recorder.Eventf(hca, nil, eventType, reason, "Aggregate", "%s", truncate(fmt.Sprintf("%s is %s: %s", hca.Spec.System, status.State, summary(status.Satellites)), maxEventMessage))
			log.Info("Check changed state", "state", status.State)
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// relay hands the assignment to the fleet, or withdraws it, and returns the Ready condition.
func (r *HealthCheckAssignmentReconciler) relay(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) (metav1.Condition, error) {
	key := client.ObjectKeyFromObject(hca)
	sel, err := fleet.NewSelection(&hca.Spec)
	if err != nil {
		r.Fleet.RemoveAssignment(key)
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonInvalidSelector, "spec.satelliteSelector: "+err.Error()), nil
	}
	cfg, err := r.checkConfig(ctx, hca)
	if err != nil {
		var unavailable *secretUnavailableError
		var notPermitted *secretNotPermittedError
		switch {
		case errors.As(err, &unavailable):
			r.Fleet.RemoveAssignment(key)
			return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonSecretUnavailable, err.Error()), nil
		case errors.As(err, &notPermitted):
			r.Fleet.RemoveAssignment(key)
			return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonSecretNotPermitted, err.Error()), nil
		}
		return metav1.Condition{}, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return metav1.Condition{}, fmt.Errorf("encoding check config: %w", err)
	}
	if err := r.Fleet.UpsertAssignment(fleet.AssignmentInfo{
		Key:        key,
		UID:        hca.UID,
		Generation: hca.Generation,
		Selection:  sel,
		Wire: protocol.Assignment{
			ConfigID:        string(hca.UID),
			SystemID:        hca.Spec.System,
			StrategyID:      string(hca.Spec.Check.Type),
			Config:          raw,
			IntervalSeconds: int(hca.Spec.Check.IntervalDuration() / time.Second),
		},
		Thresholds: hca.Spec.Thresholds,
		Paused:     hca.Spec.Paused,
		Persisted:  &hca.Status,
	}); err != nil {
		return metav1.Condition{}, fmt.Errorf("relaying the check: %w", err)
	}
	if hca.Spec.Paused {
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonPaused, "spec.paused stops the check"), nil
	}
	return readyCondition(metav1.ConditionTrue, v1alpha1.ReasonRelayed, "The check is relayed to the selected satellites"), nil
}

// notRelayableCondition is the Ready condition of a check that is relayed, but not to the
// selected satellites whose agent cannot carry it faithfully; nil when there are none. It names
// them and says why, so that a check never looks relayed where it does not run.
func notRelayableCondition(ready metav1.Condition, rep fleet.Report) *metav1.Condition {
	if ready.Reason != v1alpha1.ReasonRelayed || rep.NotRelayedCount == 0 {
		return nil
	}
	names := strings.Join(rep.NotRelayed, ", ")
	if more := int(rep.NotRelayedCount) - len(rep.NotRelayed); more > 0 {
		names += fmt.Sprintf(" and %d more", more)
	}
	c := readyCondition(metav1.ConditionFalse, v1alpha1.ReasonNotRelayable,
		fmt.Sprintf("Not relayed to %d of %d selected satellites, whose Checkstack agent cannot run it as specified (%s): %s",
			rep.NotRelayedCount, rep.Selected, names, rep.NotRelayedReason))
	return &c
}

// satellitesPendingRetry is how soon an assignment waiting for its Satellites to reach the fleet
// looks again; they reach it with their first reconcile.
const satellitesPendingRetry = 250 * time.Millisecond

// satellitesPending reports whether Satellites of the namespace that the assignment selects are
// not in the fleet yet: a new manager reconciles assignments and Satellites in any order, and an
// assignment judged before its Satellites would say NoSatellitesSelected and overwrite its
// persisted views. It waits only within fleetLoadWait of the reconciler's start: later a new
// Satellite reaches the fleet within a reconcile, and one whose own reconcile keeps failing must
// not hold its assignments back for good.
func (r *HealthCheckAssignmentReconciler) satellitesPending(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) (bool, error) {
	if r.Clock.Since(r.startedAt()) >= fleetLoadWait {
		return false, nil
	}
	sel, err := fleet.NewSelection(&hca.Spec)
	if err != nil {
		return false, nil // relay reports it
	}
	sats := &v1alpha1.SatelliteList{}
	// Read only, so the cache's objects need no copies.
	if err := r.List(ctx, sats, client.InNamespace(hca.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return false, fmt.Errorf("listing the Satellites of the namespace: %w", err)
	}
	var selected []types.UID
	for i := range sats.Items {
		s := &sats.Items[i]
		if s.DeletionTimestamp.IsZero() && sel.Matches(s.Name, s.Spec.Region, s.Labels) {
			selected = append(selected, s.UID)
		}
	}
	// One look under the fleet's lock for all of them, not one per Satellite.
	return r.Fleet.Unknown(selected) > 0, nil
}

// selectionCondition refines the Ready condition of a relayed check by what its satellites can
// do with it: none selected, all Offline, or some not reporting.
func selectionCondition(rep fleet.Report) metav1.Condition {
	notReporting := rep.Counts.Offline + rep.Counts.Stale
	switch {
	case rep.Selected == 0:
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonNoSatellitesSelected,
			"No Satellite of the namespace matches spec.satellites, spec.satelliteSelector or spec.regions")
	case rep.Counts.Offline == rep.Selected:
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonSatellitesOffline, fmt.Sprintf(
			"All %d selected satellites are Offline: the state is Unknown until one reports", rep.Selected))
	case notReporting > 0:
		return readyCondition(metav1.ConditionTrue, v1alpha1.ReasonRelayed, fmt.Sprintf(
			"The check is relayed to the selected satellites; %d of %d do not report (%d Offline, %d stale), and the quorum counts the %d that do",
			notReporting, rep.Selected, rep.Counts.Offline, rep.Counts.Stale, rep.Selected-notReporting))
	}
	return readyCondition(metav1.ConditionTrue, v1alpha1.ReasonRelayed, "The check is relayed to the selected satellites")
}

// secretUnavailableError says a Secret that checks may use lacks the key a header refers to.
type secretUnavailableError struct{ header, secret, key string }

func (e *secretUnavailableError) Error() string {
	return fmt.Sprintf("header %s: Secret %s has no key %q", e.header, e.secret, e.key)
}

// secretNotPermittedError says a header refers to a Secret that checks may not use.
type secretNotPermittedError struct{ header, secret, why string }

func (e *secretNotPermittedError) Error() string {
	return fmt.Sprintf("header %s: Secret %s may not be used by checks: %s", e.header, e.secret, e.why)
}

// checkConfig is the wire config of the check, with every header value taken from its Secret.
func (r *HealthCheckAssignmentReconciler) checkConfig(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) (*protocol.CheckConfig, error) {
	c := &hca.Spec.Check
	cfg := &protocol.CheckConfig{
		TimeoutMs: c.TimeoutDuration().Milliseconds(),
		TCP:       c.TCP, DNS: c.DNS, TLS: c.TLS, GRPC: c.GRPC, ICMP: c.ICMP,
	}
	if d := hca.Spec.Thresholds.DegradedLatency; d != nil {
		cfg.DegradedLatencyMs = d.Milliseconds()
	}
	if c.HTTP != nil {
		http := c.HTTP.DeepCopy()
		for i := range http.Headers {
			h := &http.Headers[i]
			if h.ValueFrom == nil {
				continue
			}
			ref := h.ValueFrom.SecretKeyRef
			secret, err := r.checkSecret(ctx, hca.Namespace, ref.Name)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", h.Name, err)
			}
			// A token first: asking its owner to label it would be the wrong advice.
			token, err := r.tokenOf(ctx, hca.Namespace, ref.Name, secret)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", h.Name, err)
			}
			if token != "" {
				return nil, &secretNotPermittedError{header: h.Name, secret: ref.Name, why: fmt.Sprintf(
					"it holds %s, which is never relayed to checks, whatever labels its Secret carries", token)}
			}
			if secret == nil {
				return nil, &secretNotPermittedError{header: h.Name, secret: ref.Name, why: fmt.Sprintf(
					"it does not exist, or lacks the label %s: \"true\" by which its owner permits checks of this namespace to use it (kubectl -n %s label secret %s %s=true)",
					v1alpha1.LabelCheckSecret, hca.Namespace, ref.Name, v1alpha1.LabelCheckSecret)}
			}
			value, ok := secret.Data[ref.Key]
			if !ok {
				return nil, &secretUnavailableError{header: h.Name, secret: ref.Name, key: ref.Key}
			}
			v := string(value)
			h.Value, h.ValueFrom = &v, nil
		}
		cfg.HTTP = http
	}
	return cfg, nil
}

// checkSecret returns the Secret of that name that consents to checks, or nil when there is none:
// the cache of consenting Secrets cannot tell a Secret without consent from a missing one, since
// it never holds, nor reads, the former.
func (r *HealthCheckAssignmentReconciler) checkSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := r.CheckSecrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Secret %s from the cache of check Secrets: %w", name, err)
	}
	return secret, nil
}

// tokenOf says whose token the Secret of that name holds ("the token of Satellite eu-west"), or
// "" when it holds none. consenting is the Secret from the cache of check Secrets, nil when it is
// not there. It looks for every mark a token Secret may have, so that one mark lost (a label
// removed by hand, say) does not expose a token: a Satellite's spec.tokenSecretRef, the name
// <satellite>-token of a Satellite that generates its token, an owning Satellite, the token label.
func (r *HealthCheckAssignmentReconciler) tokenOf(ctx context.Context, namespace, name string, consenting *corev1.Secret) (string, error) {
	// The SatelliteReconciler registers this index; the operator always runs both reconcilers.
	referring := &v1alpha1.SatelliteList{}
	if err := r.List(ctx, referring, client.InNamespace(namespace), client.MatchingFields{tokenSecretIndex: name}); err != nil {
		return "", fmt.Errorf("listing Satellites by token Secret: %w", err)
	}
	if len(referring.Items) > 0 {
		return "the token of Satellite " + referring.Items[0].Name, nil
	}
	if satName, ok := strings.CutSuffix(name, "-token"); ok {
		sat := &v1alpha1.Satellite{}
		err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: satName}, sat)
		switch {
		case err == nil && sat.Spec.TokenSecretRef == nil:
			return "the token of Satellite " + satName, nil
		case err != nil && !apierrors.IsNotFound(err):
			return "", fmt.Errorf("reading Satellite %s: %w", satName, err)
		}
	}
	if consenting != nil {
		for _, ref := range consenting.OwnerReferences {
			if ref.Kind == "Satellite" && strings.HasPrefix(ref.APIVersion, v1alpha1.GroupVersion.Group+"/") {
				return "the token of Satellite " + ref.Name, nil
			}
		}
		if _, ok := consenting.Labels[v1alpha1.LabelTokenSecret]; ok {
			return "a satellite's token (label " + v1alpha1.LabelTokenSecret + ")", nil
		}
	}
	// The manager's own cache holds exactly the Secrets labelled as tokens.
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &corev1.Secret{}); err == nil {
		return "a satellite's token (label " + v1alpha1.LabelTokenSecret + ")", nil
	} else if !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("reading token Secret %s: %w", name, err)
	}
	return "", nil
}

// applyReport writes the fleet's report of the satellites' views into the status: counts for
// every selected satellite, and entries for those that do not see the check healthy.
func applyReport(status *v1alpha1.HealthCheckAssignmentStatus, rep fleet.Report) {
	status.SelectedSatellites = rep.Selected
	status.ReportingSatellites = rep.Counts.Reporting()
	status.Summary = &v1alpha1.CheckSummary{}
	*status.Summary = checkSummary(rep.Counts)
	status.Regions = []v1alpha1.RegionCheckSummary{}
	for _, rc := range rep.Regions {
		if len(status.Regions) == maxListedRegions {
			break
		}
		status.Regions = append(status.Regions, v1alpha1.RegionCheckSummary{Region: rc.Region, CheckSummary: checkSummary(rc.Counts)})
	}
	status.RegionsTruncated = len(rep.Regions) > maxListedRegions
	status.Satellites = []v1alpha1.SatelliteCheckStatus{}
	for _, v := range rep.NotHealthy {
		status.Satellites = append(status.Satellites, satelliteCheckStatus(v))
	}
	status.SatellitesTruncated = rep.Truncated
}

func checkSummary(c fleet.Counts) v1alpha1.CheckSummary {
	return v1alpha1.CheckSummary{Healthy: c.Healthy, Degraded: c.Degraded, Unhealthy: c.Unhealthy, Unknown: c.Unknown,
		Offline: c.Offline, Stale: c.Stale}
}

func satelliteCheckStatus(v fleet.SatelliteView) v1alpha1.SatelliteCheckStatus {
	s := v1alpha1.SatelliteCheckStatus{
		Name:                 v.Name,
		Region:               v.Region,
		Status:               v.Status,
		LatencyMs:            v.Latency.Milliseconds(),
		Message:              truncate(v.Message, 1024),
		ConsecutiveFailures:  v.ConsecutiveFailures,
		ConsecutiveSuccesses: v.ConsecutiveSuccesses,
		Offline:              v.Offline,
		Stale:                v.Stale,
	}
	if !v.LastRunAt.IsZero() {
		t := metav1.NewTime(v.LastRunAt.Truncate(time.Second))
		s.LastRunAt = &t
	}
	return s
}

// summary lists the satellites that do not see the check healthy, for an Event's message.
func summary(sats []v1alpha1.SatelliteCheckStatus) string {
	var parts []string
	for _, s := range sats {
		if s.Status != v1alpha1.ResultHealthy && s.Status != "" {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Name, s.Status, truncate(s.Message, 80)))
		}
	}
	if len(parts) == 0 {
		return "every reporting satellite sees it healthy"
	}
	return strings.Join(parts, ", ")
}

// ellipsis marks where truncate cut a message.
const ellipsis = "…"

// truncate shortens s to at most n bytes for an Event or condition message. It keeps the start
// and the end, cut at rune boundaries, with an ellipsis between them: a wrapped Go error says
// what failed first and why last ("dial tcp 10.255.255.53:53: i/o timeout").
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	room := n - len(ellipsis)
	if room <= 0 {
		return ""
	}
	head := room / 2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	tail := len(s) - (room - room/2)
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + ellipsis + s[tail:]
}

// maxEventMessage and maxConditionMessage bound the messages written to the API: an Event's note
// may hold 1 KiB, and a condition's message is kept as short, to stay readable in kubectl.
const (
	maxEventMessage     = 1024
	maxConditionMessage = 1024
)

func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: truncate(message, maxConditionMessage)}
}

// secretRefIndex indexes assignments by the Secrets their header values refer to.
const secretRefIndex = "spec.check.http.headers.valueFrom.secretKeyRef.name"

// SetupWithManager registers the reconciler: it watches assignments, the Secrets that consent to
// checks (so a changed value is relayed at once), the Satellites of the namespace of assignments
// that take values from Secrets (a Satellite may make one of them its token), and the fleet's
// wake-ups, which come when results change a view or satellites join or leave a selection.
func (r *HealthCheckAssignmentReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.HealthCheckAssignment{}, secretRefIndex, secretNames); err != nil {
		return fmt.Errorf("indexing HealthCheckAssignments by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.HealthCheckAssignment{}).
		Watches(&v1alpha1.Satellite{}, handler.EnqueueRequestsFromMapFunc(r.assignmentsUsingSecrets),
			// Status writes (heartbeats) do not change which Secret is a token.
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		// A Secret that gains or loses consent enters or leaves this cache, so it is seen too.
		WatchesRawSource(source.Kind(r.CheckSecrets, &corev1.Secret{}, handler.TypedEnqueueRequestsFromMapFunc(r.assignmentsUsingSecret))).
		WatchesRawSource(source.Channel(r.Fleet.AssignmentEvents(), &handler.TypedEnqueueRequestForObject[*v1alpha1.HealthCheckAssignment]{})).
		Named("healthcheckassignment").
		// Every replica runs it; Reconcile does nothing where the replica does not lead (Leader).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency, NeedLeaderElection: ptr.To(false)}).
		Complete(r)
}

// secretNames returns the names of the Secrets an assignment's headers take values from.
func secretNames(obj client.Object) []string {
	http := obj.(*v1alpha1.HealthCheckAssignment).Spec.Check.HTTP
	if http == nil {
		return nil
	}
	var names []string
	for _, h := range http.Headers {
		if h.ValueFrom != nil && !slices.Contains(names, h.ValueFrom.SecretKeyRef.Name) {
			names = append(names, h.ValueFrom.SecretKeyRef.Name)
		}
	}
	return names
}

func (r *HealthCheckAssignmentReconciler) assignmentsUsingSecret(ctx context.Context, secret *corev1.Secret) []reconcile.Request {
	list := &v1alpha1.HealthCheckAssignmentList{}
	if err := r.List(ctx, list, client.InNamespace(secret.Namespace), client.MatchingFields{secretRefIndex: secret.Name}); err != nil {
		logf.FromContext(ctx).Error(err, "Listing HealthCheckAssignments for a Secret change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, a := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)})
	}
	return reqs
}

// assignmentsUsingSecrets maps a Satellite's change to the assignments of its namespace that take
// header values from Secrets, the only ones whose relaying a Satellite can change (by naming one
// of their Secrets as its token); selection changes reach the fleet through the
// SatelliteReconciler instead.
func (r *HealthCheckAssignmentReconciler) assignmentsUsingSecrets(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1alpha1.HealthCheckAssignmentList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "Listing HealthCheckAssignments for a Satellite change")
		return nil
	}
	var reqs []reconcile.Request
	for _, a := range list.Items {
		if len(secretNames(&a)) > 0 {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)})
		}
	}
	return reqs
}
