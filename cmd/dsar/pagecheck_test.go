package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The widths every page is checked at: a desk and a phone.
var checkWidths = []int64{1280, 390}

// axeSource returns axe-core's script (the npm package axe-core, installed
// by .ci/run) from DSAR_AXE, or "" when it is not set. With
// DSAR_TEST_REQUIRE_AXE set, a missing script fails the test.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("DSAR_AXE")
	if path == "" {
		if os.Getenv("DSAR_TEST_REQUIRE_AXE") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_AXE is set but DSAR_AXE names no axe.min.js")
		}
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("DSAR_AXE: %v", err)
	}
	return string(b)
}

// axeViolation is one rule axe-core found broken, with the nodes that
// break it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkPage checks the page the browser shows at each width: the page body
// never scrolls sideways, and axe-core (when installed) finds no violation
// of serious or critical impact. It leaves the window at the first width.
func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	axe := axeSource(t)
	for _, w := range append(checkWidths[1:], checkWidths[0]) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			t.Fatal(err)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if over > 0 {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).filter(e => {
				const r = e.getBoundingClientRect(); return r.right > document.documentElement.clientWidth + 1 && !e.closest(".table-wrap")
			}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))`))
			t.Errorf("%s at %d px: the page is %d px wider than the window (widest: %v)", name, w, over, wide)
		}
		if axe == "" {
			continue
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
			t.Fatalf("%s: load axe-core: %v", name, err)
		}
		vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: axe-core: %v", name, err)
		}
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				var where []string
				for _, n := range v.Nodes {
					for _, tg := range n.Target {
						if s, ok := tg.(string); ok {
							where = append(where, s)
						}
					}
				}
				t.Errorf("%s at %d px: axe-core %s (%s): %s at %s", name, w, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
			}
		}
	}
}
