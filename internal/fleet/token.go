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
	"crypto/sha256"
	"crypto/subtle"
)

// TokenHash is the SHA-256 of a satellite token: the fleet keeps only these, never the tokens.
type TokenHash [sha256.Size]byte

// HashToken returns the hash the fleet compares a presented token with.
func HashToken(token []byte) TokenHash {
	return sha256.Sum256(token)
}

// decoyHash stands in for the hash of an unknown client ID, so that an unknown ID costs the
// same comparison as a wrong token and the answer time does not tell which IDs exist.
var decoyHash = HashToken([]byte("no satellite has this token"))

// tokenMatches compares in constant time.
func tokenMatches(want TokenHash, token string) bool {
	got := HashToken([]byte(token))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// hashHolders are the Satellites whose token has one hash. Tokens are unique by construction
// (32 random bytes), so two holders mean one token was handed to two Satellites, for example
// by two spec.tokenSecretRef naming one Secret: then the token identifies neither, and nobody
// authenticates with it, instead of the last registered taking the other's identity.
type hashHolders struct {
	sats []*satellite
}

// indexHashLocked records sat's token hash.
func (f *Fleet) indexHashLocked(sat *satellite) {
	h := f.byHash[sat.hash]
	if h == nil {
		h = &hashHolders{}
		f.byHash[sat.hash] = h
	}
	h.sats = append(h.sats, sat)
}

// unindexHashLocked forgets sat's token hash.
func (f *Fleet) unindexHashLocked(sat *satellite) {
	h := f.byHash[sat.hash]
	if h == nil {
		return
	}
	for i, s := range h.sats {
		if s == sat {
			h.sats = append(h.sats[:i], h.sats[i+1:]...)
			break
		}
	}
	if len(h.sats) == 0 {
		delete(f.byHash, sat.hash)
	}
}

// soleHolderLocked returns the one Satellite whose token has this hash, or nil when none or
// several have it.
func (f *Fleet) soleHolderLocked(hash TokenHash) *satellite {
	if h := f.byHash[hash]; h != nil && len(h.sats) == 1 {
		return h.sats[0]
	}
	return nil
}
