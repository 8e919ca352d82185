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
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// patchStatus writes obj's status as a merge patch from before, under an optimistic lock: a
// reconcile that read a stale object fails instead of announcing a transition a second time.
// On a conflict it returns false and no error, since the newer object's watch event brings the
// reconciler back anyway.
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object) (bool, error) {
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		if apierrors.IsConflict(err) {
			logf.FromContext(ctx).V(1).Info("Object changed while reconciling; waiting for the newer version")
			return false, nil
		}
		return false, fmt.Errorf("patching status: %w", err)
	}
	return true, nil
}
