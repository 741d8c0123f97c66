// Package notebooks holds Foresight's executed analyses: Go programs that
// run the product's own code on deterministic demo data and write Markdown
// with figures (see README.md). notebooks_test.go re-executes them and fails
// when a committed page is stale.
package notebooks
