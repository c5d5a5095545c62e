package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// dsarServices are the services that run the image built from cmd/dsar/Dockerfile.
var dsarServices = []string{"migrate", "serve", "worker"}

// repoRoot returns the absolute path of the repository root, three levels up
// from this package (cmd/dsar/compose), after checking that it holds the
// module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	if !strings.Contains(string(mod), "module github.com/dsar-project/dsar\n") {
		t.Fatalf("%s/go.mod is not the dsar module's", root)
	}
	return root
}

// loadProject loads a compose file the way `docker compose` does: schema
// validation, interpolation (with an empty environment, so the file's
// defaults apply), normalization, path resolution and the consistency checks
// (unknown services in depends_on, undeclared volumes, ...).
func loadProject(t *testing.T, workingDir, file string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(workingDir),
		cli.WithName("dsar"),
		cli.WithEnv(nil),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// project loads the repository's docker-compose.yml and fails the test if it
// does not validate.
func project(t *testing.T) (*types.Project, string) {
	t.Helper()
	root := repoRoot(t)
	p, err := loadProject(t, root, filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("docker-compose.yml does not validate: %v", err)
	}
	return p, root
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

func TestComposeFileValidates(t *testing.T) {
	p, _ := project(t)
	for _, name := range []string{"postgres", "redis", "mailpit", "migrate", "serve", "worker"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %q is missing; have %v", name, p.ServiceNames())
		}
	}
	if len(p.DisabledServices) != 0 {
		t.Errorf("services behind a profile: %v; every service should start with a plain `up`", p.DisabledServices)
	}
}

// TestLoaderRejectsInvalidFiles keeps the other tests honest: the loader as
// configured here does refuse what the Compose Specification's schema refuses.
func TestLoaderRejectsInvalidFiles(t *testing.T) {
	root := repoRoot(t)
	good, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"unknown top-level key":   string(good) + "\nnot_a_compose_key: true\n",
		"unknown service key":     strings.Replace(string(good), "\n  redis:\n", "\n  redis:\n    no_such_option: 1\n", 1),
		"unknown depends_on":      strings.Replace(string(good), "    depends_on: *dsar-depends-on\n", "    depends_on: [nowhere]\n", 1),
		"bad healthcheck retries": strings.Replace(string(good), "      retries: 10\n", "      retries: ten\n", 1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			if content == string(good) {
				t.Fatal("the mutation did not apply; update this test to the compose file")
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "docker-compose.yml")
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadProject(t, root, file)
			if err == nil {
				t.Fatal("loaded without error")
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestDsarServicesDependOnMigrate(t *testing.T) {
	p, _ := project(t)

	migrate := service(t, p, "migrate")
	if d, ok := migrate.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("migrate depends_on postgres = %+v, want condition %s", d, types.ServiceConditionHealthy)
	}
	if migrate.Restart != types.RestartPolicyNo {
		t.Errorf("migrate restart = %q, want %q: it runs once and exits", migrate.Restart, types.RestartPolicyNo)
	}

	want := map[string]string{
		"migrate": types.ServiceConditionCompletedSuccessfully,
		"redis":   types.ServiceConditionHealthy,
		"mailpit": types.ServiceConditionStarted,
	}
	for _, name := range []string{"serve", "worker"} {
		s := service(t, p, name)
		for dep, cond := range want {
			d, ok := s.DependsOn[dep]
			if !ok {
				t.Errorf("%s does not depend on %s", name, dep)
				continue
			}
			if d.Condition != cond {
				t.Errorf("%s depends_on %s condition = %q, want %q", name, dep, d.Condition, cond)
			}
		}
	}
}

// TestHealthyConditionsHaveHealthchecks: a depends_on condition
// service_healthy on a service without a healthcheck never becomes true.
func TestHealthyConditionsHaveHealthchecks(t *testing.T) {
	p, _ := project(t)
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			hc := p.Services[dep].HealthCheck
			if hc == nil || hc.Disable || len(hc.Test) == 0 {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
}

func TestDsarServicesBuildFromDockerfile(t *testing.T) {
	p, root := project(t)
	wantDockerfile := filepath.Join(root, "cmd", "dsar", "Dockerfile")
	if _, err := os.Stat(wantDockerfile); err != nil {
		t.Fatal(err)
	}
	var images []string
	for _, name := range dsarServices {
		s := service(t, p, name)
		if s.Build == nil {
			t.Errorf("%s has no build section", name)
			continue
		}
		if filepath.Clean(s.Build.Context) != root {
			t.Errorf("%s build context = %q, want the repository root %q", name, s.Build.Context, root)
		}
		dockerfile := s.Build.Dockerfile
		if !filepath.IsAbs(dockerfile) {
			dockerfile = filepath.Join(s.Build.Context, dockerfile)
		}
		if filepath.Clean(dockerfile) != wantDockerfile {
			t.Errorf("%s dockerfile = %q, want %q", name, dockerfile, wantDockerfile)
		}
		images = append(images, s.Image)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(images))); len(distinct) != 1 {
		t.Errorf("dsar services use different images %v; they should share one", images)
	}
}

func TestDsarServicesCommands(t *testing.T) {
	p, _ := project(t)
	for _, name := range dsarServices {
		s := service(t, p, name)
		if want := (types.ShellCommand{name}); !slices.Equal(s.Command, want) {
			t.Errorf("%s command = %q, want %q", name, s.Command, want)
		}
	}
}

func TestNoServiceIsPrivileged(t *testing.T) {
	p, _ := project(t)
	all := types.Services{}
	for name, s := range p.Services {
		all[name] = s
	}
	for name, s := range p.DisabledServices {
		all[name] = s
	}
	for name, s := range all {
		if s.Privileged {
			t.Errorf("%s runs privileged", name)
		}
		if s.Build != nil && s.Build.Privileged {
			t.Errorf("%s builds privileged", name)
		}
		if len(s.CapAdd) != 0 {
			t.Errorf("%s adds capabilities %v", name, s.CapAdd)
		}
		if s.NetworkMode == "host" || s.Pid == "host" || s.Ipc == "host" {
			t.Errorf("%s shares a host namespace", name)
		}
	}
}

func TestDsarServicesAreHardened(t *testing.T) {
	p, _ := project(t)
	for _, name := range dsarServices {
		s := service(t, p, name)
		if !s.ReadOnly {
			t.Errorf("%s: read_only is not set", name)
		}
		if !slices.ContainsFunc(s.SecurityOpt, func(o string) bool {
			return o == "no-new-privileges:true" || o == "no-new-privileges"
		}) {
			t.Errorf("%s: security_opt %v lacks no-new-privileges", name, s.SecurityOpt)
		}
		if !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: cap_drop %v does not drop ALL", name, s.CapDrop)
		}
		if !slices.ContainsFunc(s.Tmpfs, func(m string) bool { return m == "/tmp" || strings.HasPrefix(m, "/tmp:") }) {
			t.Errorf("%s: no tmpfs on /tmp for a read-only root file system (tmpfs %v)", name, s.Tmpfs)
		}
		if u := s.User; u != "" && (u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:")) {
			t.Errorf("%s runs as %q", name, u)
		}
	}
}

func TestServePublishes8080(t *testing.T) {
	p, _ := project(t)
	serve := service(t, p, "serve")
	if !slices.ContainsFunc(serve.Ports, func(port types.ServicePortConfig) bool {
		return port.Target == 8080 && port.Published == "8080" && (port.Protocol == "" || port.Protocol == "tcp")
	}) {
		t.Errorf("serve does not publish 8080:8080; ports %+v", serve.Ports)
	}
	if s := service(t, p, "serve"); s.Environment["DSAR_ADDR"] == nil || *s.Environment["DSAR_ADDR"] != ":8080" {
		t.Errorf("serve DSAR_ADDR = %v, want :8080 to match the published port", s.Environment["DSAR_ADDR"])
	}
}

// TestWorkerScales: `docker compose up --scale worker=3` fails on a fixed
// container name or a published host port.
func TestWorkerScales(t *testing.T) {
	p, _ := project(t)
	worker := service(t, p, "worker")
	if worker.ContainerName != "" {
		t.Errorf("worker has container_name %q", worker.ContainerName)
	}
	for _, port := range worker.Ports {
		if port.Published != "" {
			t.Errorf("worker publishes host port %s", port.Published)
		}
	}
}

func TestDsarEnvironment(t *testing.T) {
	p, _ := project(t)
	want := map[string]string{
		"DSAR_DATABASE_URL": "postgres://",
		"DSAR_REDIS_URL":    "redis://redis:6379/",
		"DSAR_SMTP_URL":     "smtp://mailpit:1025",
		"DSAR_BASE_URL":     "http://",
		"DSAR_MAIL_FROM":    "",
		"DSAR_DATA_DIR":     "/",
	}
	for _, name := range dsarServices {
		env := service(t, p, name).Environment
		for key, prefix := range want {
			v := env[key]
			if v == nil || *v == "" {
				t.Errorf("%s: %s is not set", name, key)
				continue
			}
			if !strings.HasPrefix(*v, prefix) {
				t.Errorf("%s: %s = %q, want prefix %q", name, key, *v, prefix)
			}
		}
		if v := env["DSAR_DATABASE_URL"]; v != nil && !strings.Contains(*v, "@postgres:5432/") {
			t.Errorf("%s: DSAR_DATABASE_URL does not point at the postgres service", name)
		}
	}
}

// TestComposeCLIConfig runs `config -q` of whichever Compose implementation
// is installed, as a second opinion; it skips when there is none (CI relies
// on the tests above). `docker compose` (v2) is the reference; Debian
// bookworm's docker-compose package is v1 (1.29), which the file also keeps
// to (hence no top-level `name:`).
func TestComposeCLIConfig(t *testing.T) {
	root := repoRoot(t)
	var ran bool
	if docker, err := exec.LookPath("docker"); err == nil && exec.Command(docker, "compose", "version").Run() == nil {
		ran = true
		runConfig(t, root, docker, "compose", "-f", "docker-compose.yml", "config", "-q")
	}
	if v1, err := exec.LookPath("docker-compose"); err == nil {
		ran = true
		runConfig(t, root, v1, "-f", "docker-compose.yml", "config", "-q")
	}
	if !ran {
		t.Skip("neither `docker compose` nor docker-compose is installed")
	}
}

func runConfig(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
