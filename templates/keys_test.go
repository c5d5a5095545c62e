package templates

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dsar-project/dsar"
)

// Every message key the Go code names ("error.…", "field.…", "page.…",
// "notice.…", "history.…") exists in
// every language, so that no user ever sees a raw key.
func TestEveryKeyTheCodeUsesExists(t *testing.T) {
	key := regexp.MustCompile(`"((?:error|field|page|notice|history)\.[a-z_]+(?:\.[a-z_]+)*)"`)
	known := map[dsar.Language]map[string]bool{}
	for _, lang := range dsar.Languages {
		known[lang] = map[string]bool{}
		for _, k := range Keys(lang) {
			known[lang][k] = true
		}
	}
	found := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			found++
			for _, lang := range dsar.Languages {
				if !known[lang][m[1]] {
					t.Errorf("%s: message key %q is missing in %s", path, m[1], lang)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 20 {
		t.Fatalf("found only %d keys in the code: is the scan broken?", found)
	}
}
