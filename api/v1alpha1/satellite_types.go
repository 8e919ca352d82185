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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SatelliteState says whether a satellite is currently reporting to the manager.
// +kubebuilder:validation:Enum=Online;Offline
type SatelliteState string

const (
	// SatelliteOnline means the satellite sent a heartbeat within its offline threshold.
	SatelliteOnline SatelliteState = "Online"
	// SatelliteOffline means the satellite never connected, or stopped sending heartbeats.
	SatelliteOffline SatelliteState = "Offline"
)

// DefaultOfflineThresholdSeconds is how long a satellite may stay silent before it is Offline
// (Checkstack's OFFLINE_THRESHOLD_MS, three missed heartbeats).
const DefaultOfflineThresholdSeconds int32 = 45

// SatelliteSpec is what the user declares about a satellite.
type SatelliteSpec struct {
	// region is where the satellite runs, for example eu-west-1: 1 to 63 lower-case letters,
	// digits, '-', '.' and '_'. Assignments can select satellites by region.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$`
	Region string `json:"region"`

	// offlineThresholdSeconds is how long, in seconds, the satellite may go without a heartbeat
	// before it is marked Offline; 5 to 86400. Default 45.
	// +optional
	// +kubebuilder:default=45
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=86400
	OfflineThresholdSeconds *int32 `json:"offlineThresholdSeconds,omitempty"`

	// tokenSecretRef names a Secret in the satellite's namespace whose key "token" holds the
	// satellite's token. When it is not set, the operator generates a token into the Secret
	// "<name>-token" and owns it. A token is one Satellite's only: a Secret that another
	// Satellite owns or uses, or a token another Satellite has too, leaves all of them without a
	// token (TokenReady False, reason SecretConflict) until each has its own.
	// +optional
	TokenSecretRef *SecretReference `json:"tokenSecretRef,omitempty"`
}

// SecretReference names a Secret in the namespace of the object that holds the reference.
type SecretReference struct {
	// name is the name of the Secret, 1 to 253 characters.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// AgentKind is the kind of agent a satellite runs, told from what it advertises.
// +kubebuilder:validation:Enum=satellite-operator;checkstack
type AgentKind string

const (
	// AgentSatelliteOperator is this project's agent (cmd/satellite): it advertises the
	// capability satellite-operator.checkconfig.v1 and runs every check as the spec says.
	AgentSatelliteOperator AgentKind = "satellite-operator"
	// AgentCheckstack is Checkstack's own satellite agent, or any agent that does not advertise
	// that capability: it is sent Checkstack's strategies, and not the checks it cannot carry.
	AgentCheckstack AgentKind = "checkstack"
)

// AgentStatus is what a satellite's agent advertised.
type AgentStatus struct {
	// kind is the kind of agent: satellite-operator or checkstack.
	// +required
	Kind AgentKind `json:"kind"`
	// capabilities are the capabilities the agent advertised, as it sent them.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=128
	Capabilities []string `json:"capabilities,omitempty"`
}

// SatelliteStatus is what the operator observes about a satellite.
type SatelliteStatus struct {
	// state is Online while the satellite sends heartbeats, Offline otherwise.
	// +optional
	State SatelliteState `json:"state,omitempty"`

	// lastHeartbeatAt is when the manager last received a heartbeat, by the manager's clock.
	// The satellite's presence Lease (satellite-<name>) carries its heartbeats; to spare the API
	// server this field is refreshed while Online only once per ten status report intervals
	// (10 minutes by default), and on every change of state.
	// +optional
	LastHeartbeatAt *metav1.Time `json:"lastHeartbeatAt,omitempty"`

	// lastSeenAt is when the manager last saw the satellite: its last heartbeat, set when it
	// goes Offline. It is empty while the satellite is Online, as it is being seen; the
	// presence Lease's renewTime says when its holder last renewed it.
	// +optional
	LastSeenAt *metav1.Time `json:"lastSeenAt,omitempty"`

	// version is the agent version the satellite reported.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Version string `json:"version,omitempty"`

	// connectedSince is when the satellite's current session authenticated; empty while Offline.
	// +optional
	ConnectedSince *metav1.Time `json:"connectedSince,omitempty"`

	// assignments is how many health-check assignments are relayed to the satellite. It is
	// refreshed with the status writes that are due anyway (one per ten status report intervals
	// while Online, and every change of state), never by a write of its own, so it may lag that
	// long.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=0
	Assignments int32 `json:"assignments"`

	// agent is what the satellite's agent advertised when it last authenticated or sent a
	// heartbeat: which kind of agent it is, and so in which form it is sent its assignments.
	// +optional
	Agent *AgentStatus `json:"agent,omitempty"`

	// observedGeneration is the metadata.generation that this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions are the satellite's Online and TokenReady conditions.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sat,categories=checkstack
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.version`
// +kubebuilder:printcolumn:name="Last Seen",type=date,JSONPath=`.status.lastSeenAt`
// +kubebuilder:printcolumn:name="Assignments",type=integer,JSONPath=`.status.assignments`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Agent",type=string,JSONPath=`.status.agent.kind`,priority=1
// +kubebuilder:printcolumn:name="Capabilities",type=string,JSONPath=`.status.agent.capabilities`,priority=1
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="metadata.name must be at most 63 characters: it names the token Secret <name>-token"

// Satellite is a remote agent that runs health checks and reports to the manager over a
// WebSocket. Its status says whether it is Online.
type Satellite struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata; labels select the satellite for assignments.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired configuration of the satellite.
	// +required
	Spec SatelliteSpec `json:"spec"`

	// status is the observed state of the satellite.
	// +optional
	Status SatelliteStatus `json:"status,omitempty"`
}

// OfflineThreshold returns spec.offlineThresholdSeconds, or the default when it is unset.
func (s *Satellite) OfflineThreshold() int32 {
	if s.Spec.OfflineThresholdSeconds == nil {
		return DefaultOfflineThresholdSeconds
	}
	return *s.Spec.OfflineThresholdSeconds
}

// TokenSecretName returns the name of the Secret that holds the satellite's token.
func (s *Satellite) TokenSecretName() string {
	if s.Spec.TokenSecretRef != nil {
		return s.Spec.TokenSecretRef.Name
	}
	return s.Name + "-token"
}

// +kubebuilder:object:root=true

// SatelliteList is a list of Satellites.
type SatelliteList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the Satellites.
	Items []Satellite `json:"items"`
}
