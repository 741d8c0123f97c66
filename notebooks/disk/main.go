// Command disk executes the disk-exhaustion notebook: it writes README.md
// and its figures into -out.
//
//	go run ./notebooks/disk -out notebooks/disk
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/seed-f1b503aa/foresight/notebooks/internal/disk"
)

func main() {
	out := flag.String("out", "notebooks/disk", "directory to write README.md and the PNG files into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := disk.Render(*out); err != nil {
		fmt.Fprintln(os.Stderr, "disk:", err)
		os.Exit(1)
	}
}
