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

package hub

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/internal/fleet"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Options are the hub's settings; zero values take the defaults of DESIGN.md section 6.
type Options struct {
	// Addr is the address the endpoint listens on, e.g. ":8090".
	Addr string
	// TLSCertFile and TLSKeyFile make the endpoint serve wss.
	TLSCertFile, TLSKeyFile string
	// HeartbeatInterval is sent to satellites in authenticated.
	HeartbeatInterval time.Duration
	// PreAuthTimeout bounds the time from upgrade to authentication.
	PreAuthTimeout time.Duration
	// PongWait is how long a connection may stay silent; pings go out at 9/10 of it.
	PongWait time.Duration
	// WriteWait bounds every write.
	WriteWait time.Duration
	// ReadLimit is the largest frame accepted from an authenticated satellite, in bytes. It is
	// large enough for a Checkstack result that carries a response body; a larger frame closes
	// the session with 1009, logged with its size and type.
	ReadLimit int64
	// PreAuthReadLimit is the largest frame accepted before authentication: a connection that
	// has proved nothing is not given room for a result.
	PreAuthReadLimit int64
	// ByteRate and ByteBurst budget the bytes a satellite may send, in bytes a second; the
	// burst must hold one ReadLimit frame. Default 2 MiB a second, bursts of 4 MiB.
	ByteRate  rate.Limit
	ByteBurst int
	// ConfigInterval is the least time between two config_updated frames to one satellite: a
	// change after a quiet spell goes out at once, a burst of changes within it as one frame.
	// While a burst lasts, the time between frames doubles, up to 4 ConfigIntervals. Default 1 s.
	ConfigInterval time.Duration
	// SendQueue is how many frames may wait for a slow satellite before it is disconnected.
	SendQueue int
	// MessageRate and MessageBurst limit the frames a satellite may send. The default, 200 frames
	// a second, carries a satellite running 1,000 checks at the 5 s minimum interval.
	MessageRate  rate.Limit
	MessageBurst int
	// Admission limits the connections that have not authenticated yet.
	Admission AdmissionOptions
	// Satellites lists the Satellites (the manager's cache, indexed by IndexSatellites), so
	// that a new hub answers 1013, not 4001, to an agent whose Satellite's credentials it does
	// not hold yet. Nil means it holds them from the start.
	Satellites client.Reader
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeartbeatInterval, 15*time.Second)
	def(&o.PreAuthTimeout, 10*time.Second)
	def(&o.PongWait, 2*o.HeartbeatInterval+10*time.Second)
	def(&o.WriteWait, 10*time.Second)
	def(&o.ConfigInterval, time.Second)
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	if o.PreAuthReadLimit <= 0 {
		o.PreAuthReadLimit = 64 << 10
	}
	if o.ByteRate <= 0 {
		o.ByteRate, o.ByteBurst = 2<<20, 4<<20
	}
	o.ByteBurst = max(o.ByteBurst, int(o.ReadLimit))
	if o.SendQueue <= 0 {
		o.SendQueue = 64
	}
	if o.MessageRate <= 0 {
		o.MessageRate, o.MessageBurst = 200, 400
	}
	o.Admission.defaults()
	if o.Addr == "" {
		o.Addr = ":8090"
	}
}

// Fleet is the hub's side of the fleet state: who may connect, and what each session carries.
type Fleet interface {
	// Verify reports whether credentials would authenticate, without changing anything.
	Verify(clientID, token string) bool
	// Authenticate makes conn the satellite's session and returns the assignments to send,
	// encoded in the dialect that caps (the capabilities the agent advertised) pick; the error
	// is fleet.ErrInvalidCredentials or a *fleet.DuplicateError.
	Authenticate(clientID, token string, caps []string, conn fleet.Conn) (fleet.Handle, []json.RawMessage, error)
	// Heartbeat records a heartbeat of the session, and the capabilities it advertises again.
	Heartbeat(h fleet.Handle, version string, caps []string)
	// Disconnected records the end of the session, and the manager's close code and reason (0
	// when the peer or the network ended it).
	Disconnected(h fleet.Handle, clean bool, code int, reason string)
	// ConfigFrame returns the config_updated frame of the session's current assignments; it
	// may be shared with other sessions, and must not be modified.
	ConfigFrame(h fleet.Handle) ([]byte, bool)
	// Ingest takes a result and returns its satellite_results_total status, and whether the
	// fleet acknowledges it later, once it is written.
	Ingest(h fleet.Handle, r *protocol.Result) (status string, ackLater bool)
	// Unknown counts the Satellites whose credentials the fleet does not hold.
	Unknown(uids []types.UID) int
}

// Hub is the satellites' endpoint: the server, admission and sessions. What it learns it hands
// to the fleet, which owns every fact about satellites. It is a manager Runnable.
type Hub struct {
	opts      Options
	log       logr.Logger
	clock     clock.PassiveClock
	fleet     Fleet
	metrics   *metricsSet
	admission *admission

	// credentialsLoaded turns true once every Satellite has been registered.
	credentialsLoaded atomic.Bool

	// loadMu guards the look at whether every Satellite's credentials are loaded.
	loadMu        sync.Mutex
	loadingSince  time.Time // when the hub first checked for loaded credentials
	lastLoadCheck time.Time // when it last looked
	loadErr       error     // what it saw then

	mu       sync.Mutex
	sessions map[*session]struct{} // every open connection, authenticated or not
	addr     chan string           // the listening address, once known
}

// New returns a Hub that serves the satellites of f.
func New(opts Options, f Fleet, clk clock.PassiveClock, log logr.Logger) *Hub {
	opts.defaults()
	h := &Hub{
		opts:      opts,
		log:       log,
		clock:     clk,
		fleet:     f,
		metrics:   hubMetrics(),
		admission: newAdmission(opts.Admission, clk),
		sessions:  map[*session]struct{}{},
		addr:      make(chan string, 1),
	}
	return h
}
