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
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/checkstack/satellite-operator/api/v1alpha1"
)

func TestCheckEvent(t *testing.T) {
	cases := []struct {
		before, after v1alpha1.CheckState
		want          string
	}{
		{before: "", after: v1alpha1.CheckUnhealthy, want: ""},
		{before: v1alpha1.CheckUnknown, after: v1alpha1.CheckHealthy, want: ""},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckHealthy, want: ""},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckDegraded, want: v1alpha1.EventCheckDegraded},
		{before: v1alpha1.CheckDegraded, after: v1alpha1.CheckUnhealthy, want: v1alpha1.EventCheckUnhealthy},
		{before: v1alpha1.CheckUnknown, after: v1alpha1.CheckUnhealthy, want: v1alpha1.EventCheckUnhealthy},
		{before: v1alpha1.CheckUnhealthy, after: v1alpha1.CheckHealthy, want: v1alpha1.EventCheckRecovered},
		{before: v1alpha1.CheckDegraded, after: v1alpha1.CheckHealthy, want: v1alpha1.EventCheckRecovered},
		{before: v1alpha1.CheckHealthy, after: v1alpha1.CheckUnknown, want: ""},
	}
	for _, tc := range cases {
		if got, _ := checkEvent(tc.before, tc.after); got != tc.want {
			t.Errorf("%q -> %q: event %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	cause := "reading Secret api for header Authorization: Get \"https://10.96.0.1:443/api/v1/namespaces/monitoring/secrets/api\": dial tcp 10.255.255.53:53: i/o timeout"
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"short enough":      {in: "200 OK", n: 80, want: "200 OK"},
		"exactly the limit": {in: strings.Repeat("a", 80), n: 80, want: strings.Repeat("a", 80)},
		"keeps the cause":   {in: cause, n: 60, want: "reading Secret api for heade…10.255.255.53:53: i/o timeout"},
		// "é" is two bytes: neither half may split one.
		"at a rune boundary": {in: strings.Repeat("é", 10), n: 9, want: "é…é"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			if len(got) > tc.n || !utf8.ValidString(got) {
				t.Fatalf("truncate(%q, %d) = %q: %d bytes, valid UTF-8 %t", tc.in, tc.n, got, len(got), utf8.ValidString(got))
			}
			if got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
