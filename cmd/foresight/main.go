// Command foresight is the Foresight binary: the server and the command-line
// tools around it. Run `foresight help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/seed-f1b503aa/foresight/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `foresight — predicts disk exhaustion, memory leaks and month-end close load
from metrics, before they happen.

Usage:
  foresight serve   [-config FILE]            run the server (REST API, /api/v2/write, /metrics)
  foresight ingest  [-config FILE] FILE...    write line protocol or CSV files into the store
  foresight forecast -in FILE.csv -horizon H  forecast series from a CSV file
  foresight predict disk|memleak|monthend -in FILE.csv   risk predictions from a file
  foresight detect  -in FILE.csv              causal anomaly scores per point
  foresight bench   m4 -data DIR              the M4 Hourly accuracy and speed benchmark
  foresight demo    -out DIR [flags]          generate the demo fleet (line protocol, CSV, ground truth)
  foresight token   create|list|revoke        manage API tokens (roles: viewer, operator, admin, ingest)
  foresight config  example                   print a commented example configuration
  foresight version                           print the version

Every configuration key can be set by a FORESIGHT_* environment variable
(see 'foresight config example'). Run 'foresight COMMAND -h' for flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "foresight:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "ingest":
		return cmdIngest(ctx, args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "forecast":
		return cmdForecast(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "detect":
		return cmdDetect(ctx, args[1:], stdout, stderr)
	case "predict":
		return cmdPredict(ctx, args[1:], stdout, stderr)
	case "token":
		return cmdToken(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) == 2 && args[1] == "example" {
			_, err := stdout.Write(config.Example())
			return err
		}
		return usageError{"usage: foresight config example"}
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "foresight", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// loadConfig reads -config FILE (or FORESIGHT_CONFIG) plus the environment.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		path = os.Getenv("FORESIGHT_CONFIG")
	}
	return config.Load(path, os.Environ())
}

// newLogger builds the slog logger the configuration asks for.
func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
