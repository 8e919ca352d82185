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

package presence

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/checkstack/satellite-operator/internal/fleet"
)

// TestWriterAcknowledgesWhatItWrote checks that the results a publication acknowledges are
// handed back only once it is written, with those of the publications it replaced before the
// write, and kept through a failed write. The client is a fake: what is tested is the writer's
// bookkeeping, not the API server.
func TestWriterAcknowledgesWhatItWrote(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	failCreate := true
	c := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if failCreate {
				failCreate = false
				return errors.New("the API server is away")
			}
			return c.Create(ctx, obj, opts...)
		},
	}).Build()
	var written [][]string
	w := NewWriter(c, WriterOptions{Identity: "replica-a", RenewInterval: time.Minute,
		Written: func(p fleet.Presence) { written = append(written, p.Acks) }}, logr.Discard())
	ctx := context.Background()

	first := published("Connected")
	first.Acks = []string{"r1"}
	w.Publish(first)
	second := published("Connected")
	second.Seq, second.Acks = 2, []string{"r2"}
	w.Publish(second)
	if !w.next(ctx) || len(written) != 0 {
		t.Fatalf("after a failed write: %v handed back", written)
	}
	third := published("Connected")
	third.Seq, third.Acks = 3, []string{"r3"}
	w.Publish(third) // while the failed write waits for its retry
	if !w.next(ctx) {
		t.Fatal("the queue shut down")
	}
	if len(written) != 1 || !slices.Equal(written[0], []string{"r1", "r2", "r3"}) {
		t.Fatalf("handed back %v, want one write acknowledging r1, r2 and r3", written)
	}

	// An older publication that comes late passes its acks to the next write.
	late := published("Connected")
	late.Seq, late.Acks = 2, []string{"r-late"}
	w.Publish(late)
	fourth := published("Connected")
	fourth.Seq, fourth.Acks, fourth.LastHeartbeat = 4, []string{"r4"}, fourth.LastHeartbeat.Add(time.Minute)
	w.Publish(fourth)
	w.next(ctx)
	if len(written) != 2 || !slices.Equal(written[1], []string{"r-late", "r4"}) {
		t.Errorf("handed back %v, want a second write acknowledging r-late and r4", written)
	}
}
