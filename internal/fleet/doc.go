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

// Package fleet is the one owner of the manager's runtime state: each Satellite's credentials,
// selection facts, session handle, liveness facts and relayed list, and each assignment's wire
// form, selection and satellites' views, with indexes that keep derivation proportional to what
// changed.
package fleet
