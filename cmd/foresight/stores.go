package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/seed-f1b503aa/foresight/config"
	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
	"github.com/seed-f1b503aa/foresight/storage/influx"
)

func openInflux(ctx context.Context, c config.InfluxConfig, log *slog.Logger) (engine.MetricStore, error) {
	s, err := influx.New(influx.Config{
		URL:      c.URL,
		Token:    c.Token,
		Org:      c.Org,
		Bucket:   c.Bucket,
		Logger:   log,
		Timeouts: influx.Timeouts{Write: c.Timeout.D(), Query: c.Timeout.D()},
		// Validated by the store: auto, flux or influxql.
		QueryLanguage: influx.QueryLanguage(c.QueryLanguage),
	})
	if err != nil {
		return nil, fmt.Errorf("store.influxdb: %w", err)
	}
	// An unreachable InfluxDB is not fatal: the server starts, /readyz says
	// why, and requests answer 503 until it is back.
	if err := s.Ping(ctx); err != nil {
		log.Warn("InfluxDB is not reachable yet", "url", c.URL, "err", err)
	}
	return s, nil
}

func openEmbedded(c config.EmbeddedConfig, log *slog.Logger) (engine.MetricStore, error) {
	s, err := embedded.Open(c.Dir, embedded.Options{Retention: c.Retention.D(), Logger: quieter(log.With("component", "tsdb"), slog.LevelWarn)})
	if err != nil {
		return nil, fmt.Errorf("store.embedded: %w", err)
	}
	return s, nil
}

// quieter drops records below min: the TSDB engine logs every block it
// writes at info level, which drowns Foresight's own lines.
func quieter(l *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevelHandler{l.Handler(), min})
}

type minLevelHandler struct {
	slog.Handler
	min slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevelHandler{h.Handler.WithAttrs(a), h.min}
}

func (h minLevelHandler) WithGroup(n string) slog.Handler {
	return minLevelHandler{h.Handler.WithGroup(n), h.min}
}
