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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWebsocketURL(t *testing.T) {
	cases := map[string]struct {
		core    string
		want    string
		wantErr string
	}{
		"http becomes ws":                 {core: "http://manager:8090", want: "ws://manager:8090/api/ws/satellite"},
		"https becomes wss":               {core: "https://manager.example.com", want: "wss://manager.example.com/api/ws/satellite"},
		"a trailing slash is not doubled": {core: "https://manager.example.com/", want: "wss://manager.example.com/api/ws/satellite"},
		"a path prefix is kept":           {core: "https://example.com/checkstack/", want: "wss://example.com/checkstack/api/ws/satellite"},
		"the endpoint itself is accepted": {core: "https://example.com/api/ws/satellite", want: "wss://example.com/api/ws/satellite"},
		"ws and wss pass":                 {core: "wss://example.com:443", want: "wss://example.com:443/api/ws/satellite"},
		"the scheme is case-insensitive":  {core: "HTTPS://example.com", want: "wss://example.com/api/ws/satellite"},
		"query and fragment are dropped":  {core: "http://example.com/?a=b#c", want: "ws://example.com/api/ws/satellite"},
		"surrounding space is ignored":    {core: " http://example.com\n", want: "ws://example.com/api/ws/satellite"},
		"another scheme":                  {core: "ftp://example.com", wantErr: "must start with http:// or https://"},
		"no scheme":                       {core: "manager:8090", wantErr: "must start with http:// or https://"},
		"no host":                         {core: "https:///x", wantErr: "names no host"},
		"credentials in the URL":          {core: "https://user:secret@example.com", wantErr: "must not carry credentials"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := websocketURL(tc.core)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("websocketURL(%q) = %q, want %q", tc.core, got, tc.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	emptyFile := filepath.Join(dir, "empty")
	notPEM := filepath.Join(dir, "ca.crt")
	for path, content := range map[string]string{tokenFile: "csat_abc\n", emptyFile: "\n", notPEM: "not a certificate"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	valid := Config{CoreURL: "https://manager:8090", ClientID: "7d3e8f0a-0000-4000-8000-000000000000", Token: "csat_abc"}
	cases := map[string]struct {
		change func(*Config)
		// want are substrings of the error, one per problem; none means valid.
		want []string
	}{
		"valid with a token":      {change: func(*Config) {}},
		"valid with a token file": {change: func(c *Config) { c.Token, c.TokenFile = "", tokenFile }},
		"everything missing": {
			change: func(c *Config) { *c = Config{} },
			want:   []string{"set CHECKSTACK_CORE_URL or --core-url", "set CHECKSTACK_SATELLITE_CLIENT_ID or --client-id", "set CHECKSTACK_SATELLITE_TOKEN or --token-file"},
		},
		"a URL that is not http(s)": {change: func(c *Config) { c.CoreURL = "tcp://manager" }, want: []string{"CHECKSTACK_CORE_URL (--core-url): \"tcp://manager\" must start with http:// or https://"}},
		"both token and file":       {change: func(c *Config) { c.TokenFile = tokenFile }, want: []string{"not both"}},
		"a missing token file":      {change: func(c *Config) { c.Token, c.TokenFile = "", filepath.Join(dir, "nope") }, want: []string{"--token-file: reading the token"}},
		"an empty token file":       {change: func(c *Config) { c.Token, c.TokenFile = "", emptyFile }, want: []string{"is empty"}},
		"a CA file without PEM":     {change: func(c *Config) { c.CAFile = notPEM }, want: []string{"--ca-file: " + notPEM + " holds no PEM certificate"}},
		"a negative buffer":         {change: func(c *Config) { c.BufferSize = -1 }, want: []string{"--buffer-size must be at least 1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			_, err := New(cfg)
			var got []string
			if err != nil {
				for _, want := range tc.want {
					if strings.Contains(err.Error(), want) {
						got = append(got, want)
					}
				}
				if len(tc.want) == 0 {
					got = []string{err.Error()}
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("problems reported (-want +got):\n%s\nerror: %v", d, err)
			}
			if err != nil && strings.Contains(err.Error(), "csat_abc") {
				t.Errorf("the error repeats the token: %v", err)
			}
		})
	}
}

func TestReadTokenTrimsWhitespace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  csat_abc\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readToken(path)
	if err != nil || got != "csat_abc" {
		t.Errorf("readToken = %q, %v; want csat_abc", got, err)
	}
}
