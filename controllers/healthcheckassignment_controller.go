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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/hub"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// secretRefresh is how often an assignment that takes header values from Secrets reads them
// again: those Secrets are not cached (the cache holds only token Secrets), so not watched.
const secretRefresh = 5 * time.Minute

// AssignmentRelay is the hub's side of the HealthCheckAssignmentReconciler.
type AssignmentRelay interface {
	// UpsertAssignment relays an assignment to the satellites it selects.
	UpsertAssignment(hub.AssignmentInfo)
	// RemoveAssignment stops relaying it.
	RemoveAssignment(types.NamespacedName)
	// Results returns each satellite's view of the assignment with this UID, by satellite name.
	Results(types.UID) map[string]hub.CheckView
	// AssignmentEvents wakes the reconciler when results change an assignment's status.
	AssignmentEvents() <-chan event.TypedGenericEvent[*v1alpha1.HealthCheckAssignment]
}

// HealthCheckAssignmentReconciler relays each assignment to the satellites it selects and
// aggregates their results into its status.
type HealthCheckAssignmentReconciler struct {
	client.Client
	// APIReader reads the Secrets that header values refer to, which the cache does not hold.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Relay     AssignmentRelay
}

// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=healthcheckassignments,verbs=get;list;watch
// +kubebuilder:rbac:groups=satellite.checkstack.io,resources=healthcheckassignments/status,verbs=get;update;patch

// Reconcile relays the assignment, then writes its status when it changed.
func (r *HealthCheckAssignmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hca := &v1alpha1.HealthCheckAssignment{}
	if err := r.Get(ctx, req.NamespacedName, hca); err != nil {
		if apierrors.IsNotFound(err) {
			r.Relay.RemoveAssignment(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hca.DeletionTimestamp.IsZero() {
		r.Relay.RemoveAssignment(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	// controller-runtime's logger already names the object.
	log := logf.FromContext(ctx)

	status := hca.Status.DeepCopy()
	status.ObservedGeneration = hca.Generation
	ready, sel, requeue, err := r.relay(ctx, hca)
	if err != nil {
		return ctrl.Result{}, err
	}
	ready.ObservedGeneration = hca.Generation
	ready.LastTransitionTime = metav1.NewTime(r.Clock.Now().Truncate(time.Second))
	meta.SetStatusCondition(&status.Conditions, ready)

	satellites := &v1alpha1.SatelliteList{}
	if err := r.List(ctx, satellites, client.InNamespace(hca.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing Satellites: %w", err)
	}
	views := r.Relay.Results(hca.UID)
	persisted := map[string]v1alpha1.SatelliteCheckStatus{}
	for _, s := range hca.Status.Satellites {
		persisted[s.Name] = s
	}
	status.Satellites = []v1alpha1.SatelliteCheckStatus{}
	for i := range satellites.Items {
		sat := &satellites.Items[i]
		if sel == nil || !sel.MatchesSatellite(sat) {
			continue
		}
		entry, known := persisted[sat.Name]
		if view, ok := views[sat.Name]; ok || !known {
			entry = satelliteCheckStatus(sat, view)
		}
		// Until the satellite reports to this manager (a new leader holds no results yet), its
		// last persisted view stands, so a restart neither wipes the status nor flaps the state.
		entry.Region = sat.Spec.Region
		status.Satellites = append(status.Satellites, entry)
	}
	slices.SortFunc(status.Satellites, func(a, b v1alpha1.SatelliteCheckStatus) int { return strings.Compare(a.Name, b.Name) })
	status.SelectedSatellites = int32(len(status.Satellites))
	status.State = aggregate(status.Satellites, hca.Spec.Thresholds.Quorum)
	if hca.Spec.Paused || sel == nil {
		status.State = v1alpha1.CheckUnknown
	}

	if !equality.Semantic.DeepEqual(hca.Status, *status) {
		before := hca.DeepCopy()
		hca.Status = *status
		if patched, err := patchStatus(ctx, r.Client, before, hca); !patched {
			return ctrl.Result{}, err
		}
		if reason, eventType := checkEvent(before.Status.State, status.State); reason != "" {
			r.Recorder.Eventf(hca, nil, eventType, reason, "Aggregate", "%s is %s: %s", hca.Spec.System, status.State, summary(status.Satellites))
			log.Info("Check changed state", "state", status.State)
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// relay hands the assignment to the hub, or withdraws it, and returns the Ready condition, the
// compiled selection (nil when invalid) and when to read referenced Secrets again.
func (r *HealthCheckAssignmentReconciler) relay(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) (metav1.Condition, *hub.Selection, time.Duration, error) {
	key := client.ObjectKeyFromObject(hca)
	sel, err := hub.NewSelection(&hca.Spec)
	if err != nil {
		r.Relay.RemoveAssignment(key)
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonInvalidSelector, "spec.satelliteSelector: "+err.Error()), nil, 0, nil
	}
	cfg, usesSecrets, err := r.checkConfig(ctx, hca)
	if err != nil {
		var unavailable *secretUnavailableError
		if errors.As(err, &unavailable) {
			r.Relay.RemoveAssignment(key)
			return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonSecretUnavailable, err.Error()), &sel, secretRefresh, nil
		}
		return metav1.Condition{}, nil, 0, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return metav1.Condition{}, nil, 0, fmt.Errorf("encoding check config: %w", err)
	}
	r.Relay.UpsertAssignment(hub.AssignmentInfo{
		Key:       key,
		UID:       hca.UID,
		Selection: sel,
		Wire: protocol.Assignment{
			ConfigID:        string(hca.UID),
			SystemID:        hca.Spec.System,
			StrategyID:      string(hca.Spec.Check.Type),
			Config:          raw,
			IntervalSeconds: int(hca.Spec.Check.IntervalDuration() / time.Second),
		},
		Thresholds: hca.Spec.Thresholds,
		Paused:     hca.Spec.Paused,
	})
	var requeue time.Duration
	if usesSecrets {
		requeue = secretRefresh
	}
	if hca.Spec.Paused {
		return readyCondition(metav1.ConditionFalse, v1alpha1.ReasonPaused, "spec.paused stops the check"), &sel, requeue, nil
	}
	return readyCondition(metav1.ConditionTrue, v1alpha1.ReasonRelayed, "The check is relayed to the selected satellites"), &sel, requeue, nil
}

// secretUnavailableError says a Secret key that a header refers to does not exist (yet).
type secretUnavailableError struct{ header, secret, key string }

func (e *secretUnavailableError) Error() string {
	return fmt.Sprintf("header %s: Secret %s with key %q is not available", e.header, e.secret, e.key)
}

// checkConfig is the wire config of the check, with every header value taken from its Secret.
func (r *HealthCheckAssignmentReconciler) checkConfig(ctx context.Context, hca *v1alpha1.HealthCheckAssignment) (*protocol.CheckConfig, bool, error) {
	c := &hca.Spec.Check
	cfg := &protocol.CheckConfig{
		TimeoutMs: c.TimeoutDuration().Milliseconds(),
		TCP:       c.TCP, DNS: c.DNS, TLS: c.TLS, GRPC: c.GRPC, ICMP: c.ICMP,
	}
	if d := hca.Spec.Thresholds.DegradedLatency; d != nil {
		cfg.DegradedLatencyMs = d.Milliseconds()
	}
	usesSecrets := false
	if c.HTTP != nil {
		http := c.HTTP.DeepCopy()
		for i := range http.Headers {
			h := &http.Headers[i]
			if h.ValueFrom == nil {
				continue
			}
			usesSecrets = true
			ref := h.ValueFrom.SecretKeyRef
			secret := &corev1.Secret{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: hca.Namespace, Name: ref.Name}, secret)
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, true, fmt.Errorf("reading Secret %s for header %s: %w", ref.Name, h.Name, err)
			}
			value, ok := secret.Data[ref.Key]
			if !ok {
				return nil, true, &secretUnavailableError{header: h.Name, secret: ref.Name, key: ref.Key}
			}
			v := string(value)
			h.Value, h.ValueFrom = &v, nil
		}
		cfg.HTTP = http
	}
	return cfg, usesSecrets, nil
}

func satelliteCheckStatus(sat *v1alpha1.Satellite, v hub.CheckView) v1alpha1.SatelliteCheckStatus {
	s := v1alpha1.SatelliteCheckStatus{
		Name:                 sat.Name,
		Region:               sat.Spec.Region,
		Status:               v.Status,
		LatencyMs:            v.Latency.Milliseconds(),
		Message:              truncate(v.Message, 1024),
		ConsecutiveFailures:  v.ConsecutiveFailures,
		ConsecutiveSuccesses: v.ConsecutiveSuccesses,
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: message}
}

// SetupWithManager registers the reconciler: it watches assignments, the Satellites of their
// namespace (for selection changes) and the hub's result-driven wake-ups.
func (r *HealthCheckAssignmentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.HealthCheckAssignment{}).
		Watches(&v1alpha1.Satellite{}, handler.EnqueueRequestsFromMapFunc(r.assignmentsInNamespace),
			// Status writes (heartbeats) do not change what an assignment selects.
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		WatchesRawSource(source.Channel(r.Relay.AssignmentEvents(), &handler.TypedEnqueueRequestForObject[*v1alpha1.HealthCheckAssignment]{})).
		Named("healthcheckassignment").
		Complete(r)
}

func (r *HealthCheckAssignmentReconciler) assignmentsInNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1alpha1.HealthCheckAssignmentList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "Listing HealthCheckAssignments for a Satellite change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, a := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)})
	}
	return reqs
}
