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

package fleet

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func TestTokenIndex(t *testing.T) {
	h1, h2 := HashToken([]byte("csat_one")), HashToken([]byte("csat_two"))
	type step struct {
		add    bool
		hash   TokenHash
		uid    types.UID
		others []types.UID // what add or remove returns
	}
	type owner struct {
		uid types.UID
		ok  bool
	}
	cases := map[string]struct {
		steps []step
		want  owner // owner of h1 afterwards
	}{
		"one holder owns its token": {
			steps: []step{{add: true, hash: h1, uid: "a"}},
			want:  owner{"a", true},
		},
		"adding the same claim again changes nothing": {
			steps: []step{{add: true, hash: h1, uid: "a"}, {add: true, hash: h1, uid: "a"}},
			want:  owner{"a", true},
		},
		"a duplicate is refused, not overwritten: nobody owns the token": {
			steps: []step{{add: true, hash: h1, uid: "a"}, {add: true, hash: h1, uid: "b", others: []types.UID{"a"}}},
			want:  owner{"", false},
		},
		"the first holder left alone owns it again": {
			steps: []step{
				{add: true, hash: h1, uid: "a"},
				{add: true, hash: h1, uid: "b", others: []types.UID{"a"}},
				{hash: h1, uid: "b", others: []types.UID{"a"}},
			},
			want: owner{"a", true},
		},
		"three holders: one leaving still leaves a duplicate": {
			steps: []step{
				{add: true, hash: h1, uid: "a"},
				{add: true, hash: h1, uid: "b", others: []types.UID{"a"}},
				{add: true, hash: h1, uid: "c", others: []types.UID{"a", "b"}},
				{hash: h1, uid: "a", others: []types.UID{"b", "c"}},
			},
			want: owner{"", false},
		},
		"other tokens do not conflict": {
			steps: []step{{add: true, hash: h1, uid: "a"}, {add: true, hash: h2, uid: "b"}},
			want:  owner{"a", true},
		},
		"the last holder leaving forgets the token": {
			steps: []step{{add: true, hash: h1, uid: "a"}, {hash: h1, uid: "a"}},
			want:  owner{"", false},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			x := tokenIndex{}
			for i, s := range tc.steps {
				var got []types.UID
				if s.add {
					got = x.add(s.hash, s.uid)
				} else {
					got = x.remove(s.hash, s.uid)
				}
				if diff := cmp.Diff(s.others, got, cmpEmpty); diff != "" {
					t.Errorf("step %d returned other holders (-want +got):\n%s", i, diff)
				}
			}
			uid, ok := x.owner(h1)
			if diff := cmp.Diff(tc.want, owner{uid, ok}, cmp.AllowUnexported(owner{})); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
			if got := x.unique(h1, "a"); got != (tc.want.ok && tc.want.uid == "a") {
				t.Errorf("unique(a) = %v", got)
			}
		})
	}
}

// cmpEmpty treats nil and empty lists alike: "no other holders" either way.
var cmpEmpty = cmp.FilterValues(func(x, y []types.UID) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore())
