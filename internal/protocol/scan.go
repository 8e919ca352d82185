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

package protocol

import (
	"bytes"
	"encoding/json"
)

// This file walks JSON text that json.Valid has already accepted. The decoders use it instead of
// json.Unmarshal because they need what Unmarshal hides: whether a field was present at all,
// exact (case-sensitive) key matching, repeated keys, and the raw value to report its JSON type.
// Every function still checks its bounds, so malformed input ends the walk instead of panicking.

// kind is the JSON type of a value, told by its first byte.
type kind byte

const (
	kindInvalid kind = iota
	kindString
	kindNumber
	kindObject
	kindArray
	kindBool
	kindNull
)

// kindOf returns the JSON type of the value v, which starts at its first byte.
func kindOf(v []byte) kind {
	if len(v) == 0 {
		return kindInvalid
	}
	switch v[0] {
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return kindNumber
	}
	return kindInvalid
}

// String names the kind for error reasons, with its article.
func (k kind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	}
	return "not a JSON value"
}

// skipSpace returns the index of the first non-whitespace byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// endOfString returns the index just past the string that starts with the quote at b[i], or -1.
func endOfString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// endOfValue returns the index just past the value that starts at b[i], or -1. It does not
// recurse, so deep nesting costs no stack.
func endOfValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = endOfString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// iter walks the members of an object or the elements of an array.
type iter struct {
	b     []byte
	i     int
	close byte
	// bad is set when the text turned out malformed; the walk then stops.
	bad bool
}

// openObject starts a walk of the object v; false if v is not an object.
func openObject(v []byte) (iter, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return iter{}, false
	}
	return iter{b: v, i: i + 1, close: '}'}, true
}

// openArray starts a walk of the array v; false if v is not an array.
func openArray(v []byte) (iter, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return iter{}, false
	}
	return iter{b: v, i: i + 1, close: ']'}, true
}

// start moves past the separator before the next entry; false at the end of the container.
func (it *iter) start() bool {
	if it.bad {
		return false
	}
	i := skipSpace(it.b, it.i)
	if i < len(it.b) && it.b[i] == ',' {
		i = skipSpace(it.b, i+1)
	}
	it.i = i
	if i >= len(it.b) {
		it.bad = true
		return false
	}
	return it.b[i] != it.close
}

// value reads the value at the current position.
func (it *iter) value() ([]byte, bool) {
	end := endOfValue(it.b, it.i)
	if end < 0 {
		it.bad = true
		return nil, false
	}
	v := it.b[it.i:end]
	it.i = end
	return v, true
}

// nextMember returns the next member of an object, its key already unescaped.
func (it *iter) nextMember() (key, value []byte, ok bool) {
	if !it.start() {
		return nil, nil, false
	}
	if it.b[it.i] != '"' {
		it.bad = true
		return nil, nil, false
	}
	end := endOfString(it.b, it.i)
	if end < 0 {
		it.bad = true
		return nil, nil, false
	}
	key = it.b[it.i+1 : end-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		// Rare: a key spelled with escapes still names its field, as it would for any JSON peer.
		var s string
		if json.Unmarshal(it.b[it.i:end], &s) != nil {
			it.bad = true
			return nil, nil, false
		}
		key = []byte(s)
	}
	i := skipSpace(it.b, end)
	if i >= len(it.b) || it.b[i] != ':' {
		it.bad = true
		return nil, nil, false
	}
	it.i = skipSpace(it.b, i+1)
	value, ok = it.value()
	return key, value, ok
}

// nextElement returns the next element of an array.
func (it *iter) nextElement() ([]byte, bool) {
	if !it.start() {
		return nil, false
	}
	return it.value()
}

// count walks a copy of the iterator to count the remaining entries, stopping once it passes
// limit so an oversized list costs no more than limit entries' worth of scanning.
func (it iter) count(limit int) int {
	n := 0
	for n <= limit && it.start() {
		if _, ok := it.value(); !ok {
			break
		}
		if it.close == '}' {
			// An object's entry is key ':' value; the key was read as the value above.
			i := skipSpace(it.b, it.i)
			if i >= len(it.b) || it.b[i] != ':' {
				break
			}
			it.i = skipSpace(it.b, i+1)
			if _, ok := it.value(); !ok {
				break
			}
		}
		n++
	}
	return n
}
