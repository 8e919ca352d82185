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
	"crypto/sha256"
	"crypto/subtle"
)

// TokenHash is the SHA-256 of a satellite token: the hub keeps only these, never the tokens.
type TokenHash [sha256.Size]byte

// HashToken returns the hash the hub compares a presented token with.
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
