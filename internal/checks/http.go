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

// The HTTP probe is written by hand rather than with blackbox_exporter's ProbeHTTP: ProbeHTTP
// builds a new client and transport, with keep-alives off, on every run, which the agent cannot
// afford at 1,000 checks every 10 s, and it reports only a bool, while the result must say which
// status code came back or that the body did not match.

package checks

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
	"github.com/checkstack/satellite-operator/internal/protocol"
)

// maxBodyBytes bounds how much of a response body is read, so that a huge or endless answer
// costs the agent neither memory nor time; bodyRegex sees only this prefix.
const maxBodyBytes = 1 << 20

// userAgent names the prober in the target's logs unless the check sets its own header.
const userAgent = "checkstack-satellite"

// transports are shared by every HTTP check, one per set of TLS options ([0] verifies, [1] does
// not), so that connections and TLS sessions are pooled instead of rebuilt on every run.
var transports = [2]*http.Transport{newTransport(false), newTransport(true)}

// clients wrap transports, indexed by [insecureSkipTLSVerify][followRedirects]; an http.Client
// is only a policy over its transport, so four of them cover every check.
var clients = [2][2]*http.Client{
	{newClient(transports[0], false), newClient(transports[0], true)},
	{newClient(transports[1], false), newClient(transports[1], true)},
}

func newTransport(insecureSkipVerify bool) *http.Transport {
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		// #nosec G402 -- only when the check sets insecureSkipTLSVerify.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: insecureSkipVerify},
		ForceAttemptHTTP2: true,
		// A check usually runs one request at a time per target; keeping one or two idle
		// connections per host serves the next run, and the idle timeout, longer than the
		// default interval of 30 s, closes those of targets no longer checked.
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
}

func newClient(t *http.Transport, followRedirects bool) *http.Client {
	c := &http.Client{Transport: t}
	if !followRedirects {
		// The 3xx answer itself is then judged against expectedStatusCodes.
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// CloseIdleConnections closes the pooled connections of the HTTP checks; the agent calls it when
// its assignments change or it shuts down, so that connections to targets no longer checked do
// not linger until their idle timeout.
func CloseIdleConnections() {
	for _, t := range transports {
		t.CloseIdleConnections()
	}
}

func probeHTTP(ctx context.Context, cfg *protocol.CheckConfig) (finding, error) {
	c := cfg.HTTP
	if c == nil {
		return finding{}, errMissingBlock(v1alpha1.CheckHTTP)
	}
	// Compile before sending, so that a bad pattern does not cost the target a request.
	var bodyRe *regexp.Regexp
	if c.BodyRegex != "" {
		var err error
		if bodyRe, err = regexp.Compile(c.BodyRegex); err != nil {
			return finding{}, fmt.Errorf("invalid bodyRegex: %w", err)
		}
	}

	method := string(c.Method)
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL, body)
	if err != nil {
		return finding{}, err
	}
	req.Header.Set("User-Agent", userAgent)
	for _, h := range c.Headers {
		if h.Value == nil {
			// The manager resolves valueFrom into value; sending the request without the header
			// would report the target's 401 instead of the real fault.
			return finding{}, fmt.Errorf("header %s has no value: its secret was not resolved", h.Name)
		}
		if strings.EqualFold(h.Name, "Host") {
			req.Host = *h.Value
			continue
		}
		req.Header.Set(h.Name, *h.Value)
	}

	insecure, follow := 0, 1
	if c.InsecureSkipTLSVerify {
		insecure = 1
	}
	if c.FollowRedirects != nil && !*c.FollowRedirects {
		follow = 0
	}
	resp, err := clients[insecure][follow].Do(req)
	if err != nil {
		return finding{}, err
	}
	defer func() { _ = resp.Body.Close() }()

	f := finding{
		message:  fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)),
		metadata: map[string]any{"statusCode": resp.StatusCode},
	}
	f.message = strings.TrimSpace(f.message)

	// Read the body even when nothing checks it: a drained body returns the connection to the
	// pool for the next run.
	limited := io.LimitReader(resp.Body, maxBodyBytes)
	var content []byte
	if bodyRe != nil {
		content, err = io.ReadAll(limited)
	} else {
		_, err = io.Copy(io.Discard, limited)
	}
	if err != nil {
		return f, fmt.Errorf("%s, reading body: %w", f.message, err)
	}

	if !statusOK(resp.StatusCode, c.ExpectedStatusCodes) {
		if len(c.ExpectedStatusCodes) == 0 {
			return f, fmt.Errorf("status %d, want 2xx", resp.StatusCode)
		}
		return f, fmt.Errorf("status %d, want one of %v", resp.StatusCode, c.ExpectedStatusCodes)
	}
	if bodyRe != nil && !bodyRe.Match(content) {
		return f, fmt.Errorf("%s, body does not match %q", f.message, c.BodyRegex)
	}
	return f, nil
}

// statusOK reports whether code is expected; no expectation accepts any 2xx.
func statusOK(code int, expected []int32) bool {
	if len(expected) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(expected, int32(code))
}
