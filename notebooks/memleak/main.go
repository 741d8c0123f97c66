// Command memleak executes the memory notebook: it writes README.md and its
// figures into -out.
//
//	go run ./notebooks/memleak -out notebooks/memleak
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/seed-f1b503aa/foresight/notebooks/internal/memleak"
)

func main() {
	out := flag.String("out", "notebooks/memleak", "directory to write README.md and the PNG files into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := memleak.Render(*out); err != nil {
		fmt.Fprintln(os.Stderr, "memleak:", err)
		os.Exit(1)
	}
}
