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
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// closeTryAgainLater is the close code of a hub that cannot serve yet: a replica that is starting
// and still loading the Satellites' credentials.
const closeTryAgainLater = 1013

// credentialsWait bounds how long a starting replica is not Ready, and turns away a token that
// names no Satellite, while it waits for every Satellite's credentials.
const credentialsWait = 30 * time.Second

// SatelliteUIDIndex indexes the cache's Satellites by UID, the client ID an agent names its
// Satellite by, so that a failed authentication can tell a Satellite not loaded yet from none.
const SatelliteUIDIndex = "metadata.uid"

// IndexSatellites adds SatelliteUIDIndex to the cache that Options.Satellites reads.
func IndexSatellites(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &v1alpha1.Satellite{}, SatelliteUIDIndex, satelliteUID)
}

func satelliteUID(o client.Object) []string { return []string{string(o.GetUID())} }

// loadCheckInterval is how long one look at whether every Satellite's credentials are loaded
// answers for.
const loadCheckInterval = 250 * time.Millisecond

// upgrader reuses the HTTP server's 4 KiB read and write buffers of the hijacked connection
// (sizes 0), and takes write buffers from a pool only while a frame is written, so that an idle
// session holds no buffer of its own.
var upgrader = websocket.Upgrader{
	WriteBufferPool: &sync.Pool{},
	// Satellites are not browsers and authenticate with a token; the Origin header says nothing.
	CheckOrigin: func(*http.Request) bool { return true },
}

// NeedLeaderElection is false: every replica serves satellites, leading or not.
func (h *Hub) NeedLeaderElection() bool { return false }

// Start serves the endpoint until ctx is done, then closes every session with 1001.
func (h *Hub) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", h.opts.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", h.opts.Addr, err)
	}
	h.addr <- ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc(protocol.Path, func(w http.ResponseWriter, r *http.Request) { h.serveUpgrade(ctx, w, r) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() {
		h.log.Info("Serving satellites", "address", ln.Addr().String(), "path", protocol.Path, "tls", h.opts.TLSCertFile != "")
		if h.opts.TLSCertFile != "" {
			h.observeCertificate()
			errc <- srv.ServeTLS(ln, h.opts.TLSCertFile, h.opts.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serving satellites: %w", err)
	case <-ctx.Done():
	}
	h.closeAll(protocol.CloseGoingAway, protocol.ShutdownGoingAway)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Hijacked WebSocket connections are not tracked by Shutdown; closeAll ended them.
	return srv.Shutdown(shutdownCtx)
}

// Addr returns the address the endpoint listens on, once it does.
func (h *Hub) Addr(ctx context.Context) (string, error) {
	select {
	case a := <-h.addr:
		h.addr <- a
		return a, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ReadyCheck fails until this hub knows every Satellite's credentials, so that a Service routes
// satellites to a replica only once it can authenticate them.
func (h *Hub) ReadyCheck(r *http.Request) error {
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	return h.ready(ctx)
}

// ready says why the hub is not Ready yet, or nil: for at most credentialsWait, the
// SatelliteReconciler has not handed it every Satellite's token yet. Until then a failed
// authentication may be the manager's lag, and is answered 1013, not 4001, which would send
// every agent of a restart into its slow retry (see loading).
func (h *Hub) ready(ctx context.Context) error {
	if h.credentialsLoaded.Load() || h.opts.Satellites == nil {
		return nil
	}
	// A whole fleet may dial a starting replica at once: one look at the Satellites serves every upgrade
	// of the next moment, instead of each of N upgrades comparing N Satellites.
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	now := h.clock.Now()
	if h.loadingSince.IsZero() {
		h.loadingSince = now
	}
	if now.Sub(h.lastLoadCheck) < loadCheckInterval {
		return h.loadErr
	}
	h.lastLoadCheck = now
	list := &v1alpha1.SatelliteList{}
	// Only the UIDs are read, so the cache's objects need no copies.
	if err := h.opts.Satellites.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		h.loadErr = fmt.Errorf("listing Satellites: %w", err)
		return h.loadErr
	}
	uids := make([]types.UID, len(list.Items))
	for i := range list.Items {
		uids[i] = list.Items[i].UID
	}
	// A Satellite whose reconcile keeps failing must not keep every other one out.
	if missing := h.fleet.Unknown(uids); missing > 0 && now.Sub(h.loadingSince) < credentialsWait {
		h.loadErr = fmt.Errorf("credentials of %d Satellites not loaded yet", missing)
		return h.loadErr
	}
	h.loadErr = nil
	h.credentialsLoaded.Store(true)
	return nil
}

// judge tries credentials with try, which reports whether they authenticate. When they do not
// and the Satellite they name may still be loading, wait says why to come back. A Satellite
// loaded between the try and the look at loading is tried once more, so that a valid agent is
// never refused in that moment: a restarted manager loads thousands of Satellites a second
// while their agents dial, so the moment is not rare.
func (h *Hub) judge(ctx context.Context, clientID string, try func() bool) (ok bool, wait string) {
	if try() {
		return true, ""
	}
	if why := h.loading(ctx, clientID); why != "" {
		return false, why
	}
	return try(), ""
}

// refusesBearer reports whether a bearer token fails for good, before the upgrade.
func (h *Hub) refusesBearer(ctx context.Context, clientID, bearer string) bool {
	ok, wait := h.judge(ctx, clientID, func() bool { return h.fleet.Verify(clientID, bearer) })
	return !ok && wait == ""
}

// loading says why a failed authentication may be this manager's lag rather than a wrong
// token, or "" when it is the token. A client that names its Satellite waits only for that
// one's credentials, however many others a restarted manager still loads; a token alone names
// none, so it waits, at most credentialsWait, until every Satellite is loaded.
func (h *Hub) loading(ctx context.Context, clientID string) string {
	if clientID == "" {
		if err := h.ready(ctx); err != nil {
			return err.Error()
		}
		return ""
	}
	if h.opts.Satellites == nil || h.fleet.Unknown([]types.UID{types.UID(clientID)}) == 0 {
		return "" // the fleet holds its credentials, or it names no Satellite
	}
	list := &v1alpha1.SatelliteList{}
	err := h.opts.Satellites.List(ctx, list, client.MatchingFields{SatelliteUIDIndex: clientID}, client.UnsafeDisableDeepCopy)
	switch {
	case err != nil:
		return fmt.Sprintf("looking up the Satellite: %v", err)
	case len(list.Items) == 0:
		return ""
	}
	return "the Satellite's credentials are not loaded yet"
}

func (h *Hub) closeAll(code int, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.sessions {
		s.Close(code, reason, &protocol.Shutdown{Reason: reason})
	}
}

// serveUpgrade admits a satellite's upgrade, checks a bearer token before anything more is
// spent on it, upgrades the connection and starts its session, which runs under ctx (Start's).
func (h *Hub) serveUpgrade(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	release, refused := h.admission.admit(r.RemoteAddr)
	if refused != "" {
		h.metrics.refused.WithLabelValues(refused).Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many connection attempts; retry later", http.StatusServiceUnavailable)
		return
	}
	clientID, bearer := "", bearerToken(r)
	if bearer != "" {
		// The first frame carries its own client ID; a header beside it would be a second
		// claim to reconcile with it, so it is read only with a bearer token.
		clientID = strings.TrimSpace(r.Header.Get(protocol.HeaderClientID))
	}
	// A hub still loading this Satellite's credentials upgrades and answers 1013 instead, so
	// that a valid agent is told to come back rather than that its token is wrong.
	if bearer != "" && h.refusesBearer(r.Context(), clientID, bearer) {
		release()
		h.metrics.refused.WithLabelValues(refusedCredentials).Inc()
		// The client ID is the Satellite's UID, not a secret; the token is never logged.
		h.log.Info("Authentication failed", "remote", r.RemoteAddr, "clientId", clientID, "via", "bearer")
		w.Header().Set("WWW-Authenticate", `Bearer realm="satellites"`)
		http.Error(w, "invalid credentials", http.StatusUnauthorized)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		release()
		return // the upgrader answered the client already
	}
	conn.SetReadLimit(h.opts.PreAuthReadLimit)
	s := &session{
		hub:         h,
		conn:        conn,
		send:        make(chan []byte, h.opts.SendQueue),
		configReady: make(chan struct{}, 1),
		done:        make(chan struct{}),
		finished:    make(chan struct{}),
		limiter:     rate.NewLimiter(h.opts.MessageRate, h.opts.MessageBurst),
		bytes:       rate.NewLimiter(h.opts.ByteRate, h.opts.ByteBurst),
		remote:      r.RemoteAddr,
		release:     release,
	}
	h.mu.Lock()
	h.sessions[s] = struct{}{}
	h.mu.Unlock()
	// The session reads in a goroutine of its own, and the handler returns: net/http keeps the
	// request's state (a 4 KiB buffered writer of the connection, the response's 2 KiB buffer,
	// the request and its headers) for as long as the handler runs, which for a session would
	// be its whole life. The request's context ends when the handler returns, so the session
	// runs under the server's.
	go s.writePump()
	go s.run(ctx, clientID, bearer)
}

func bearerToken(r *http.Request) string {
	const prefix = "Bearer "
	auth := r.Header.Get("Authorization")
	if len(auth) > len(prefix) && strings.EqualFold(auth[:len(prefix)], prefix) {
		return strings.TrimSpace(auth[len(prefix):])
	}
	return ""
}

// ended unregisters a closed session.
func (h *Hub) ended(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions, s)
}

// observeCertificate exports when the served certificate expires, for the TLS expiry alert. The
// server reads the files once, at start, so this is what it serves until it restarts.
func (h *Hub) observeCertificate() {
	pair, err := tls.LoadX509KeyPair(h.opts.TLSCertFile, h.opts.TLSKeyFile)
	if err != nil || len(pair.Certificate) == 0 {
		return // ServeTLS reports the error
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return
	}
	h.metrics.certExpiry.Set(float64(leaf.NotAfter.Unix()))
}
