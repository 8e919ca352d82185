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

package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/checkstack/satellite-operator/internal/protocol"
)

// Environment variables of Checkstack's satellite agent, which ours reads too.
const (
	// EnvCoreURL is the manager's base URL, http(s)://host:port.
	EnvCoreURL = "CHECKSTACK_CORE_URL"
	// EnvClientID is the Satellite's metadata.uid, the clientId key of its token Secret.
	EnvClientID = "CHECKSTACK_SATELLITE_CLIENT_ID"
	// EnvToken is the satellite's token, the token key of its token Secret.
	EnvToken = "CHECKSTACK_SATELLITE_TOKEN"
	// EnvTokenFile names a file that holds the token, such as a mounted token Secret (ours).
	EnvTokenFile = "CHECKSTACK_SATELLITE_TOKEN_FILE"
)

// Defaults of Config.
const (
	DefaultMetricsAddr       = ":8082"
	DefaultBufferSize        = 1000
	DefaultReconnectMin      = time.Second
	DefaultReconnectMax      = 30 * time.Second
	DefaultAuthRetryInterval = 5 * time.Minute
	DefaultTokenPollInterval = time.Second
)

// Config is the agent's settings. Zero values take the defaults above.
type Config struct {
	// CoreURL is the manager's base URL, http(s)://host:port[/prefix]; the agent dials
	// ws(s)://host:port[/prefix]/api/ws/satellite.
	CoreURL string
	// ClientID is the Satellite's metadata.uid.
	ClientID string
	// Token is the satellite's token. Exactly one of Token and TokenFile is set.
	Token string
	// TokenFile holds the token. It is read on every dial, and watched while the manager refuses
	// the token, so that a rotated Secret mounted as a volume takes effect without a restart.
	TokenFile string
	// CAFile is a PEM bundle that verifies the manager's certificate instead of the system roots.
	CAFile string
	// MetricsAddr is where /healthz, /readyz and /metrics are served; "0" serves nothing.
	MetricsAddr string
	// BufferSize bounds the results kept until the manager acknowledges them; beyond it the
	// oldest are dropped and counted. From 512 (twice protocol.MaxUnwrittenResults) the agent
	// asks for acks only of results the manager has written.
	BufferSize int
	// Version is the agent's version, sent in heartbeats.
	Version string
	// ReconnectMin and ReconnectMax bound the reconnect backoff: the ceiling of the random delay
	// starts at ReconnectMin and doubles up to ReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
	// AuthRetryInterval is how long the agent waits, after the manager refused its credentials,
	// before it presents the same credentials again.
	AuthRetryInterval time.Duration
	// TokenPollInterval is how often TokenFile is read for a new token while the manager refuses
	// the current one.
	TokenPollInterval time.Duration
	// Logger receives the agent's logs; the zero Logger discards them.
	Logger logr.Logger
	// Clock drives the schedules, heartbeats and backoff; nil means the real clock.
	Clock clock.WithTicker
}

// withDefaults returns c with its zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.MetricsAddr == "" {
		c.MetricsAddr = DefaultMetricsAddr
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	c.ReconnectMax = max(c.ReconnectMax, c.ReconnectMin)
	if c.AuthRetryInterval <= 0 {
		c.AuthRetryInterval = DefaultAuthRetryInterval
	}
	if c.TokenPollInterval <= 0 {
		c.TokenPollInterval = DefaultTokenPollInterval
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	return c
}

// validate reports every missing or invalid setting at once, naming the environment variable or
// flag that sets it, so that a misconfigured agent fails at start instead of dialing in vain.
func (c *Config) validate() error {
	var errs []error
	if c.CoreURL == "" {
		errs = append(errs, fmt.Errorf("the manager's URL is required: set %s or --core-url", EnvCoreURL))
	} else if _, err := websocketURL(c.CoreURL); err != nil {
		errs = append(errs, fmt.Errorf("%s (--core-url): %w", EnvCoreURL, err))
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, fmt.Errorf("the client ID is required: set %s or --client-id to the clientId key of the Satellite's token Secret", EnvClientID))
	} else if len(c.ClientID) > protocol.MaxClientIDBytes {
		errs = append(errs, fmt.Errorf("the client ID (%s) is longer than %d bytes; it is the Satellite's UID", EnvClientID, protocol.MaxClientIDBytes))
	}
	switch {
	case c.Token != "" && c.TokenFile != "":
		errs = append(errs, fmt.Errorf("set either %s or --token-file, not both", EnvToken))
	case c.Token == "" && c.TokenFile == "":
		errs = append(errs, fmt.Errorf("the token is required: set %s or --token-file to the token key of the Satellite's token Secret", EnvToken))
	case c.TokenFile != "":
		if _, err := readToken(c.TokenFile); err != nil {
			errs = append(errs, fmt.Errorf("--token-file: %w", err))
		}
	case len(strings.TrimSpace(c.Token)) > protocol.MaxTokenBytes:
		errs = append(errs, fmt.Errorf("the token (%s) is longer than %d bytes", EnvToken, protocol.MaxTokenBytes))
	}
	if c.CAFile != "" {
		if _, err := loadTLS(c.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("--ca-file: %w", err))
		}
	}
	if c.BufferSize < 1 {
		errs = append(errs, fmt.Errorf("--buffer-size must be at least 1, not %d", c.BufferSize))
	}
	return errors.Join(errs...)
}

// websocketURL turns the manager's base URL into its satellites' endpoint: http becomes ws, https
// becomes wss, and /api/ws/satellite is appended to the path unless it is there already.
func websocketURL(core string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(core))
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", core, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("%q must start with http:// or https://", core)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q names no host", core)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q must not carry credentials; the token is sent after connecting", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(u.Path, protocol.Path) {
		u.Path += protocol.Path
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// readToken reads a token file; surrounding whitespace, such as the newline an editor adds, is
// not part of the token.
func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	token := strings.TrimSpace(string(data))
	switch {
	case token == "":
		return "", fmt.Errorf("the token file %s is empty", path)
	case len(token) > protocol.MaxTokenBytes:
		return "", fmt.Errorf("the token in %s is longer than %d bytes", path, protocol.MaxTokenBytes)
	}
	return token, nil
}

// loadTLS returns the TLS settings of the dialer: the CA bundle of caFile, or the system roots
// when caFile is empty.
func loadTLS(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
