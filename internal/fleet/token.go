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
	"slices"

	"k8s.io/apimachinery/pkg/types"
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

// tokenIndex maps each token hash to the Satellites whose token it is. A bearer token names its
// satellite only because it is unique, so a hash claimed by more than one Satellite names none:
// the index keeps every claim, so that it can tell who else holds a token and forget a
// duplicate only when its last holder goes, but it never picks one of them (last writer wins
// would hand one Satellite's agent to another).
type tokenIndex map[TokenHash][]types.UID

// add records that uid holds hash and returns the other holders, if any.
func (x tokenIndex) add(hash TokenHash, uid types.UID) []types.UID {
	others := slices.Clone(x[hash])
	if !slices.Contains(others, uid) {
		x[hash] = append(x[hash], uid)
	}
	return slices.DeleteFunc(others, func(o types.UID) bool { return o == uid })
}

// remove forgets that uid holds hash and returns the holders that remain.
func (x tokenIndex) remove(hash TokenHash, uid types.UID) []types.UID {
	rest := slices.DeleteFunc(x[hash], func(o types.UID) bool { return o == uid })
	if len(rest) == 0 {
		delete(x, hash)
		return nil
	}
	x[hash] = rest
	return slices.Clone(rest)
}

// owner returns the one Satellite that holds hash; false when none does or several do.
func (x tokenIndex) owner(hash TokenHash) (types.UID, bool) {
	if holders := x[hash]; len(holders) == 1 {
		return holders[0], true
	}
	return "", false
}

// unique reports whether uid is the only holder of hash.
func (x tokenIndex) unique(hash TokenHash, uid types.UID) bool {
	owner, ok := x.owner(hash)
	return ok && owner == uid
}
