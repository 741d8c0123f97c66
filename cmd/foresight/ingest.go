package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/schollz/progressbar/v3"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

const ingestUsage = `usage: foresight ingest [flags] FILE...

Writes line protocol (.lp, .txt, or any other name) or CSV (.csv) files into
the configured metric store, or with -server into a running Foresight (or
InfluxDB) through /api/v2/write. A ".gz" suffix is decompressed; "-" reads
line protocol from standard input.

CSV files are long form, "series,timestamp,value", where series is a series
id such as "disk,host=db-01,path=/data#used" and timestamp is RFC 3339 or Unix
seconds; a header row is optional.

Each file is validated completely before anything is written: a malformed
line stops the command with the file, line number and reason, and nothing
of that file is written. Files are written in batches; if the store fails
part-way, rerun the command: writes are idempotent.

Flags:
`

type pointSink interface {
	write(ctx context.Context, pts []engine.Point) error
	// commit makes everything written so far durable and readable.
	commit(ctx context.Context) error
	close() error
}

func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, ingestUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "YAML configuration file (store settings)")
	server := fs.String("server", "", "write through this server's /api/v2/write instead of opening the store (e.g. http://127.0.0.1:8080)")
	precision := fs.String("precision", "ns", "timestamp precision of line protocol: ns, us, ms or s")
	batch := fs.Int("batch", 5000, "points per write")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"ingest: no input file"}
	}
	prec, err := engine.ParsePrecision(*precision)
	if err != nil {
		return usageError{"ingest: -" + err.Error()}
	}
	if *batch <= 0 {
		return usageError{"ingest: -batch must be positive"}
	}
	var sink pointSink
	if *server != "" {
		sink = &httpSink{url: strings.TrimRight(*server, "/") + "/api/v2/write?precision=ns", client: &http.Client{Timeout: 60 * time.Second}}
	} else {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		log := newLogger(cfg.Log, stderr)
		store, err := openStore(ctx, cfg, log)
		if err != nil {
			return err
		}
		sink = storeSink{store}
		if es, ok := store.(*embedded.Store); ok {
			// Files hold history: the embedded store loads it in bulk.
			l, err := es.NewLoader()
			if err != nil {
				_ = store.Close()
				return err
			}
			sink = &loaderSink{store: es, loader: l}
		}
	}
	total := 0
	for _, path := range fs.Args() {
		n, err := ingestFile(ctx, path, prec, *batch, sink, stderr, *quiet)
		if err == nil {
			err = sink.commit(ctx)
		}
		total += n
		if err != nil {
			_ = sink.close()
			return fmt.Errorf("%s: %w (%d points written before this error in all files)", path, err, total)
		}
		fmt.Fprintf(stdout, "%s: %d points written\n", path, n)
	}
	return sink.close()
}

// openFile opens a file for reading; "-" is standard input (closing it is
// a no-op).
func openFile(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(path)
}

// openInput opens a file ("-" is stdin), transparently gunzipping .gz files.
func openInput(path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("gzip: %w", err)
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, -1, nil
	}
	return f, st.Size(), nil
}

func ingestFile(ctx context.Context, path string, prec time.Duration, batchSize int, sink pointSink, stderr io.Writer, quiet bool) (int, error) {
	isCSV := strings.HasSuffix(strings.TrimSuffix(path, ".gz"), ".csv")
	if isCSV {
		pts, err := readCSVPoints(path)
		if err != nil {
			return 0, err
		}
		return writeBatches(ctx, pts, batchSize, sink, nil)
	}
	now := time.Now()
	// Pass 1: validate the whole file; nothing is written if a line is bad.
	if path != "-" {
		r, _, err := openInput(path)
		if err != nil {
			return 0, err
		}
		_, err = engine.DecodeLineProtocol(bufio.NewReaderSize(r, 1<<20), prec, now, nil)
		r.Close()
		if err != nil {
			return 0, describeParseError(err)
		}
	}
	// Pass 2: stream and write in batches.
	r, size, err := openInput(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var in io.Reader = r
	var bar *progressbar.ProgressBar
	if !quiet && size > 0 {
		bar = progressbar.DefaultBytes(size, "ingest "+filepath.Base(path))
		in = io.TeeReader(r, bar)
	}
	written := 0
	buf := make([]engine.Point, 0, batchSize)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := sink.write(ctx, buf); err != nil {
			return err
		}
		written += len(buf)
		buf = buf[:0]
		return nil
	}
	_, err = engine.DecodeLineProtocol(bufio.NewReaderSize(in, 1<<20), prec, now, func(p engine.Point) error {
		buf = append(buf, p)
		if len(buf) >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return written, describeParseError(err)
	}
	return written, nil
}

func describeParseError(err error) error {
	var pe *engine.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d malformed line(s), nothing of this file was written:", pe.Total)
	for _, l := range pe.Lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	if pe.Total > len(pe.Lines) {
		fmt.Fprintf(&b, "\n  … and %d more", pe.Total-len(pe.Lines))
	}
	return errors.New(b.String())
}

func writeBatches(ctx context.Context, pts []engine.Point, batchSize int, sink pointSink, bar *progressbar.ProgressBar) (int, error) {
	written := 0
	for len(pts) > 0 {
		n := min(batchSize, len(pts))
		if err := sink.write(ctx, pts[:n]); err != nil {
			return written, err
		}
		written += n
		pts = pts[n:]
		if bar != nil {
			_ = bar.Add(n)
		}
	}
	return written, nil
}

type storeSink struct{ store engine.MetricStore }

func (s storeSink) write(ctx context.Context, pts []engine.Point) error {
	return s.store.Write(ctx, pts)
}
func (s storeSink) commit(context.Context) error { return nil }
func (s storeSink) close() error                 { return s.store.Close() }

// loaderSink bulk-loads into the embedded store; data is durable and
// visible at each commit (after each file).
type loaderSink struct {
	store  *embedded.Store
	loader *embedded.Loader
}

func (l *loaderSink) write(ctx context.Context, pts []engine.Point) error {
	return l.loader.Add(ctx, pts)
}
func (l *loaderSink) commit(ctx context.Context) error { return l.loader.Commit(ctx) }
func (l *loaderSink) close() error {
	return errors.Join(l.loader.Close(), l.store.Close())
}

// httpSink posts gzip-compressed line protocol to a write endpoint.
type httpSink struct {
	url    string
	client *http.Client
}

func (h *httpSink) write(ctx context.Context, pts []engine.Point) error {
	body, err := encodeLineProtocol(pts)
	if err != nil {
		return err
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	if _, err := zw.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, &zb)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (h *httpSink) commit(context.Context) error { return nil }
func (h *httpSink) close() error                 { return nil }

// encodeLineProtocol writes points as line protocol with nanosecond times.
func encodeLineProtocol(pts []engine.Point) ([]byte, error) {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	var names []string
	for _, p := range pts {
		enc.StartLine(p.Measurement)
		names = names[:0]
		for k := range p.Tags {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			enc.AddTag(k, p.Tags[k])
		}
		names = names[:0]
		for k := range p.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, ok := lineprotocol.FloatValue(p.Fields[k])
			if !ok {
				return nil, fmt.Errorf("%s: field %s is not finite", p.Measurement, k)
			}
			enc.AddField(k, v)
		}
		enc.EndLine(p.Time)
	}
	return enc.Bytes(), enc.Err()
}
