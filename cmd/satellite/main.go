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

// Command satellite is the satellite agent: it connects to the satellite-operator's manager, runs
// the health checks assigned to its Satellite and reports their results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"

	"github.com/checkstack/satellite-operator/internal/agent"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run())
}

func run() int {
	cfg := agent.Config{Version: version, Token: os.Getenv(agent.EnvToken)}
	flag.StringVar(&cfg.CoreURL, "core-url", os.Getenv(agent.EnvCoreURL),
		"The manager's base URL, http(s)://host:port; the agent dials ws(s)://host:port/api/ws/satellite. Env "+agent.EnvCoreURL+".")
	flag.StringVar(&cfg.ClientID, "client-id", os.Getenv(agent.EnvClientID),
		"The Satellite's UID, the clientId key of its token Secret. Env "+agent.EnvClientID+".")
	flag.StringVar(&cfg.TokenFile, "token-file", os.Getenv(agent.EnvTokenFile),
		"File holding the token, re-read when it changes; else the token comes from "+agent.EnvToken+". Env "+agent.EnvTokenFile+".")
	flag.StringVar(&cfg.CAFile, "ca-file", "", "PEM bundle that verifies the manager's certificate instead of the system roots.")
	flag.StringVar(&cfg.MetricsAddr, "metrics-bind-address", agent.DefaultMetricsAddr, "Address of /healthz, /readyz and /metrics; 0 disables them.")
	flag.IntVar(&cfg.BufferSize, "buffer-size", agent.DefaultBufferSize, "Results kept until the manager acknowledges them; beyond it the oldest are dropped. From 512 the manager acknowledges only results it has written to the API server.")
	level := slog.LevelInfo
	flag.TextVar(&level, "log-level", level, "Least level logged: DEBUG, INFO, WARN or ERROR.")
	showVersion := flag.Bool("version", false, "Print the version and exit.")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return 0
	}

	if cfg.BufferSize < 1 {
		fmt.Fprintf(os.Stderr, "--buffer-size must be at least 1, not %d\n", cfg.BufferSize)
		return 2
	}
	handler := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	log := slog.New(handler)
	cfg.Logger = logr.FromSlogHandler(handler)
	a, err := agent.New(cfg)
	if err != nil {
		log.Error("Cannot start the satellite agent", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := a.Run(ctx); err != nil {
		if errors.Is(err, agent.ErrReplaced) {
			log.Error("Exiting: two agents share one satellite identity", "error", err.Error())
		} else {
			log.Error("Satellite agent failed", "error", err.Error())
		}
		return 1
	}
	return 0
}
