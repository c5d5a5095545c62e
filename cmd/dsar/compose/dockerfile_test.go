package compose

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// instruction is one parsed Dockerfile instruction.
type instruction struct {
	cmd   string   // lower case: "from", "run", "user", ...
	args  []string // the arguments, JSON form or not
	json  bool     // written in JSON (exec) form
	flags []string // --platform=..., --from=..., --chown=..., --mount=...
	line  int
}

// stage is the instructions of one build stage, from its FROM on.
type stage struct {
	from         instruction
	instructions []instruction
}

// parsedDockerfile is cmd/dsar/Dockerfile split into the global ARGs (before
// the first FROM) and its stages.
type parsedDockerfile struct {
	globalArgs map[string]string
	stages     []stage
}

func parseDockerfile(t *testing.T, path string) parsedDockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s: parser warning: %s", path, w.Short)
	}
	d := parsedDockerfile{globalArgs: map[string]string{}}
	for _, n := range res.AST.Children {
		in := instruction{cmd: strings.ToLower(n.Value), json: n.Attributes["json"], flags: n.Flags, line: n.StartLine}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		switch {
		case in.cmd == "from":
			d.stages = append(d.stages, stage{from: in})
		case len(d.stages) == 0:
			if in.cmd == "arg" {
				for _, a := range in.args {
					k, v, _ := strings.Cut(a, "=")
					d.globalArgs[k] = v
				}
			}
		default:
			s := &d.stages[len(d.stages)-1]
			s.instructions = append(s.instructions, in)
		}
	}
	return d
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instructions {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// last returns the stage's last instruction cmd, which is the one in force.
func (s stage) last(t *testing.T, cmd string) instruction {
	t.Helper()
	all := s.all(cmd)
	if len(all) == 0 {
		t.Fatalf("final stage has no %s", strings.ToUpper(cmd))
	}
	return all[len(all)-1]
}

// index returns the position of the first instruction cmd whose joined
// arguments contain substr, or -1.
func (s stage) index(cmd, substr string) int {
	return slices.IndexFunc(s.instructions, func(in instruction) bool {
		return in.cmd == cmd && strings.Contains(strings.Join(in.args, " "), substr)
	})
}

// image returns a FROM's image reference and its stage name (after AS).
func (in instruction) image() (ref, name string) {
	ref = in.args[0]
	if len(in.args) == 3 && strings.EqualFold(in.args[1], "as") {
		name = in.args[2]
	}
	return ref, name
}

func dockerfile(t *testing.T) (parsedDockerfile, string) {
	t.Helper()
	root := repoRoot(t)
	return parseDockerfile(t, filepath.Join(root, "cmd", "dsar", "Dockerfile")), root
}

func TestDockerfileIsMultiStage(t *testing.T) {
	d, _ := dockerfile(t)
	if len(d.stages) < 2 {
		t.Fatalf("%d stage(s), want a build stage and a final stage", len(d.stages))
	}
	final := d.stages[len(d.stages)-1]
	ref, _ := final.from.image()
	if !strings.HasPrefix(ref, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s, want gcr.io/distroless/static-...", ref)
	}
	// distroless has no shell: a RUN there cannot work.
	if runs := final.all("run"); len(runs) != 0 {
		t.Errorf("final stage has RUN on line %d; the distroless base has no shell", runs[0].line)
	}
	// Only the binary (and the empty data dir) come from the build stage.
	_, buildName := d.stages[0].from.image()
	if buildName == "" {
		t.Fatal("the build stage has no name (FROM ... AS build)")
	}
	copied := false
	for _, in := range final.all("copy") {
		if !slices.Contains(in.flags, "--from="+buildName) {
			t.Errorf("final stage COPY on line %d is not from the %s stage", in.line, buildName)
		}
		if len(in.args) == 2 && in.args[1] == "/usr/local/bin/dsar" {
			copied = true
		}
	}
	if !copied {
		t.Error("final stage does not copy the binary to /usr/local/bin/dsar")
	}
}

func TestDockerfileFinalStageRunsAsNonRoot(t *testing.T) {
	d, _ := dockerfile(t)
	final := d.stages[len(d.stages)-1]
	user := final.last(t, "user")
	if len(user.args) != 1 {
		t.Fatalf("USER %q", user.args)
	}
	u, g, hasGroup := strings.Cut(user.args[0], ":")
	check := func(kind, id string) {
		if id == "" || id == "root" || strings.Contains(id, "$") {
			t.Errorf("USER %s: %s %q is root, empty or not literal", user.args[0], kind, id)
			return
		}
		if n, err := strconv.Atoi(id); err == nil && n == 0 {
			t.Errorf("USER %s: %s id 0 is root", user.args[0], kind)
		}
	}
	check("user", u)
	if hasGroup {
		check("group", g)
	}
	// USER must come after the last instruction that could need root.
	if i := slices.IndexFunc(final.instructions, func(in instruction) bool { return in.cmd == "user" && in.line == user.line }); i < 0 ||
		slices.ContainsFunc(final.instructions[i+1:], func(in instruction) bool { return in.cmd == "copy" || in.cmd == "add" || in.cmd == "run" }) {
		t.Error("final stage copies or runs something after USER")
	}
}

func TestDockerfileEntrypoint(t *testing.T) {
	d, _ := dockerfile(t)
	final := d.stages[len(d.stages)-1]

	ep := final.last(t, "entrypoint")
	if !ep.json || !slices.Equal(ep.args, []string{"/usr/local/bin/dsar"}) {
		t.Errorf("ENTRYPOINT %q (json %v), want [\"/usr/local/bin/dsar\"] in exec form", ep.args, ep.json)
	}
	cmd := final.last(t, "cmd")
	if !cmd.json || !slices.Equal(cmd.args, []string{"serve"}) {
		t.Errorf("CMD %q (json %v), want [\"serve\"] in exec form", cmd.args, cmd.json)
	}
	if expose := final.last(t, "expose"); !slices.Contains(expose.args, "8080") && !slices.Contains(expose.args, "8080/tcp") {
		t.Errorf("EXPOSE %q, want 8080", expose.args)
	}
	labels := strings.Join(final.last(t, "label").args, " ")
	for _, key := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version"} {
		if !strings.Contains(labels, key) {
			t.Errorf("no %s label", key)
		}
	}
}

func TestDockerfileBuildStage(t *testing.T) {
	d, root := dockerfile(t)
	build := d.stages[0]

	// The Go image's major.minor matches go.mod's go directive.
	ref, _ := build.from.image()
	for k, v := range d.globalArgs {
		ref = strings.ReplaceAll(ref, "${"+k+"}", v)
		ref = strings.ReplaceAll(ref, "$"+k, v)
	}
	want := "golang:" + goMinorVersion(t, filepath.Join(root, "go.mod")) + "-bookworm"
	if ref != want {
		t.Errorf("build stage FROM %s, want %s (go.mod's go directive)", ref, want)
	}

	// Module download in its own layer, before the sources are copied.
	mod := build.index("copy", "go.mod")
	download := build.index("run", "go mod download")
	sources := slices.IndexFunc(build.instructions, func(in instruction) bool {
		return in.cmd == "copy" && len(in.args) == 2 && in.args[0] == "."
	})
	if mod < 0 || download < 0 || sources < 0 || !(mod < download && download < sources) {
		t.Errorf("want COPY go.mod go.sum, then RUN go mod download, then COPY . . (at %d, %d, %d)", mod, download, sources)
	}

	i := build.index("run", "go build")
	if i < 0 {
		t.Fatal("build stage has no RUN go build")
	}
	run := strings.Join(build.instructions[i].args, " ")
	for _, s := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "./cmd/dsar"} {
		if !strings.Contains(run, s) {
			t.Errorf("go build step lacks %q: %s", s, run)
		}
	}
}

// goMinorVersion returns major.minor of the go directive of a go.mod file.
func goMinorVersion(t *testing.T, gomod string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "go "); ok {
			parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
			if len(parts) < 2 {
				t.Fatalf("go directive %q", v)
			}
			return parts[0] + "." + parts[1]
		}
	}
	t.Fatalf("%s has no go directive", gomod)
	return ""
}

// TestDockerignore checks cmd/dsar/Dockerfile.dockerignore with BuildKit's own
// reader and matcher: what the build needs stays in the context, local data,
// VCS and test output do not.
func TestDockerignore(t *testing.T) {
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, "cmd", "dsar", "Dockerfile.dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{ // path -> excluded
		".git/HEAD":                           true,
		"data/dsar.db":                        true,
		"dsar.sqlite":                         true,
		"docs/screenshots/intake.png":         true,
		"store/store.test":                    true,
		"coverage.out":                        true,
		".env":                                true,
		"go.mod":                              false,
		"go.sum":                              false,
		"dsar.go":                             false,
		"cmd/dsar/main.go":                    false,
		"migrations/0001_init.sql":            false,
		"migrations/postgres/0001_init.sql":   false,
		"templates/mail/verify/en/body.html":  false,
		"templates/static/logo.png":           false,
		"api/openapi.yaml":                    false,
		"store/testdata/fixture.json":         false,
		"workflows/export/export.go":          false,
		"docs/state_machine.md":               false,
		"templates/locales/nb/messages.toml":  false,
		"api/static/data/countries.json":      false,
		"workflows/connectors/data/client.go": false,
	}
	for path, want := range cases {
		got, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s excluded = %v, want %v", path, got, want)
		}
	}
}
