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

package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNamespaces(t *testing.T) {
	cases := map[string]struct {
		flag    string
		want    []string
		wantErr string
	}{
		"empty means every namespace":    {flag: "", want: nil},
		"one":                            {flag: "monitoring", want: []string{"monitoring"}},
		"several, blanks and repeats":    {flag: " monitoring, payments,,monitoring ", want: []string{"monitoring", "payments"}},
		"not a namespace name":           {flag: "monitoring,Payments", wantErr: `--watch-namespaces: "Payments" is not a namespace name`},
		"a name with a slash is refused": {flag: "a/b", wantErr: `--watch-namespaces: "a/b"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseNamespaces(tc.flag)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseNamespaces(%q) error = %v, want it to contain %q", tc.flag, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseNamespaces(%q): %v", tc.flag, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseNamespaces(%q) (-want +got):\n%s", tc.flag, diff)
			}
		})
	}
}

func TestMetricsOptions(t *testing.T) {
	secure := metricsOptions(options{metricsAddr: ":8080", metricsSecure: true, metricsCertDir: "/certs"})
	if !secure.SecureServing || secure.FilterProvider == nil || secure.CertDir != "/certs" {
		t.Errorf("--metrics-secure: SecureServing %v, FilterProvider set %v, CertDir %q; want true, true, /certs",
			secure.SecureServing, secure.FilterProvider != nil, secure.CertDir)
	}
	plain := metricsOptions(options{metricsAddr: ":8080"})
	if plain.SecureServing || plain.FilterProvider != nil {
		t.Errorf("--metrics-secure=false: SecureServing %v, FilterProvider set %v; want false, false",
			plain.SecureServing, plain.FilterProvider != nil)
	}
}
