package notebooks_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-f1b503aa/foresight/notebooks/internal/disk"
	"github.com/seed-f1b503aa/foresight/notebooks/internal/memleak"
	"github.com/seed-f1b503aa/foresight/notebooks/internal/monthend"
)

// notebooks maps each notebook's directory to its render function.
var notebooks = []struct {
	dir    string
	render func(dir string) error
}{
	{"monthend", monthend.Render},
	{"disk", disk.Render},
	{"memleak", memleak.Render},
}

var imageLink = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+)\)`)

// TestNotebooksUpToDate re-executes every notebook into a temporary
// directory and checks that the committed README.md is exactly what the code
// produces now (so it can never go stale) and that every figure it links
// exists, in the run and in the tree, and is a PNG of sensible size. PNG
// bytes are not compared: font rasterisation may differ between machines.
func TestNotebooksUpToDate(t *testing.T) {
	for _, nb := range notebooks {
		t.Run(nb.dir, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			if err := nb.render(out); err != nil {
				t.Fatalf("render: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(out, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(nb.dir, "README.md"))
			if err != nil {
				t.Fatalf("committed notebook missing: %v (run `make notebooks`)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/README.md is stale: run `make notebooks` and commit the result\n%s", nb.dir, firstDiff(string(want), string(got)))
			}
			links := imageLink.FindAllStringSubmatch(string(got), -1)
			if len(links) == 0 {
				t.Errorf("%s/README.md links no figure", nb.dir)
			}
			for _, m := range links {
				file := m[1]
				if filepath.IsAbs(file) || strings.Contains(file, "..") || filepath.Ext(file) != ".png" {
					t.Errorf("figure %q: want a PNG next to README.md", file)
					continue
				}
				checkPNG(t, filepath.Join(out, file))
				checkPNG(t, filepath.Join(nb.dir, file))
			}
		})
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("figure: %v", err)
		return
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Errorf("%s: not a PNG: %v", path, err)
		return
	}
	if cfg.Width < 600 || cfg.Width > 3000 || cfg.Height < 300 || cfg.Height > 3000 {
		t.Errorf("%s: %d×%d pixels, want 600–3000 × 300–3000", path, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: does not decode: %v", path, err)
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + a + "\n  generated: " + b
		}
	}
	return "(only trailing differences)"
}
