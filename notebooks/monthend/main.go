// Command monthend executes the month-end close notebook: it writes
// README.md and its figures into -out.
//
//	go run ./notebooks/monthend -out notebooks/monthend
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/seed-f1b503aa/foresight/notebooks/internal/monthend"
)

func main() {
	out := flag.String("out", "notebooks/monthend", "directory to write README.md and the PNG files into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := monthend.Render(*out); err != nil {
		fmt.Fprintln(os.Stderr, "monthend:", err)
		os.Exit(1)
	}
}
