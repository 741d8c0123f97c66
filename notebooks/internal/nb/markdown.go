package nb

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Doc builds a Markdown document.
type Doc struct {
	b strings.Builder
}

func (d *Doc) block(s string) {
	if d.b.Len() > 0 {
		d.b.WriteString("\n")
	}
	d.b.WriteString(strings.TrimRight(s, "\n"))
	d.b.WriteString("\n")
}

// H1, H2 and H3 add headings.
func (d *Doc) H1(s string) { d.block("# " + s) }

// H2 adds a second-level heading.
func (d *Doc) H2(s string) { d.block("## " + s) }

// H3 adds a third-level heading.
func (d *Doc) H3(s string) { d.block("### " + s) }

// P adds a paragraph.
func (d *Doc) P(format string, args ...any) { d.block(fmt.Sprintf(format, args...)) }

// Bullets adds a bullet list.
func (d *Doc) Bullets(items ...string) {
	var b strings.Builder
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
	d.block(b.String())
}

// Code adds a fenced code block.
func (d *Doc) Code(lang, s string) {
	d.block("```" + lang + "\n" + strings.TrimRight(s, "\n") + "\n```")
}

// Image adds an image (a path relative to the document) with its alt text.
func (d *Doc) Image(file, alt string) { d.block(fmt.Sprintf("![%s](%s)", alt, file)) }

// Table adds a table. align has one character per column: 'l' or 'r'.
func (d *Doc) Table(align string, head []string, rows [][]string) {
	var b strings.Builder
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for i := range head {
		if i < len(align) && align[i] == 'r' {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	d.block(b.String())
}

// String returns the document.
func (d *Doc) String() string { return d.b.String() }

// WriteFile writes the document to dir/README.md.
func (d *Doc) WriteFile(dir string) error {
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(d.String()), 0o644)
}
