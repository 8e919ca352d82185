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

package checks

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// failureLog is the slog.Handler handed to blackbox_exporter's probers: they return only a bool
// and say why a probe failed only in their log, so it keeps the first error they log as the
// result's cause.
type failureLog struct {
	mu sync.Mutex
	// err is the "err" attribute of the first error record: it names the failing operation and
	// its cause ("dial tcp4 ...: connection refused"), which says more than the record's message
	// ("Error dialing TCP").
	err error
	// message is the first error record's message, for errors logged without an "err".
	message string
}

func (l *failureLog) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelError
}

func (l *failureLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.message != "" {
		// The first error is the cause; later ones restate it on the way out.
		return nil
	}
	l.message = r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "err" {
			return true
		}
		if err, ok := a.Value.Any().(error); ok && err != nil {
			l.err = err
		}
		return false
	})
	return nil
}

func (l *failureLog) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *failureLog) WithGroup(string) slog.Handler { return l }

// failure is the first error the prober logged, or fallback when it logged none.
func (l *failureLog) failure(fallback string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.err != nil:
		return l.err
	case l.message != "":
		return errors.New(l.message)
	default:
		return errors.New(fallback)
	}
}
