// Command exportbench measures the assembly of a subject's answer from a
// large collected export: the access report (HTML and JSON) and the
// portability ZIP of workflows/export, read from JSON Lines blobs in a
// directory, against archive/zip alone writing the same files.
//
//	exportbench generate -dir D -records 1000000   # write the blobs of one case (Proviso, five systems)
//	exportbench assemble -dir D -out O              # report.html, report.json and package.zip into O
//	exportbench baseline -zip O/package.zip -out O  # the package's files through archive/zip alone
//
// assemble and baseline print one line each for scripts:
// "ASSEMBLE records=… html_bytes=… html_s=… json_bytes=… json_s=… zip_bytes=… zip_content_bytes=… zip_s=…"
// and "BASELINE zip_content_bytes=… zip_bytes=… zip_s=…". Run each under
// /usr/bin/time -v for its peak RSS (cmd/loadgen/export_bench.sh does).
// The blobs are kept in a plain directory (no encryption): this measures
// the assembly, not the store.
package main

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/export"
)

const caseID = "bench-case"

// share is one system's part of the generated export: its task and the
// fraction of the records of each of its categories.
type share struct {
	system, task string
	cats         map[string]float64
}

// The case's exports: Proviso's systems, with a category the report shows
// but portability leaves out (profiling: derived, legitimate interest).
var shares = []share{
	{"hubspot", "t-hubspot", map[string]float64{"contact": 0.05, "usage": 0.35}},
	{"profiling", "t-profiling", map[string]float64{"profiling": 0.10}},
	{"trial-accounts", "t-trial", map[string]float64{"contact": 0.15}},
	{"google-ads", "t-ads", map[string]float64{"usage": 0.35}},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exportbench generate|assemble|baseline [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "generate":
		err = generate(os.Args[2:])
	case "assemble":
		err = assemble(os.Args[2:])
	case "baseline":
		err = baseline(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "exportbench:", err)
		os.Exit(1)
	}
}

// generate writes the export blobs of the case: records of plausible
// shape (flat fields, a nested object, an array), deterministic.
func generate(args []string) error {
	fl := flag.NewFlagSet("generate", flag.ExitOnError)
	dir := fl.String("dir", "", "blob directory to write")
	n := fl.Int("records", 1000000, "records over all systems")
	fl.Parse(args)
	if *dir == "" {
		return errors.New("generate: -dir is required")
	}
	blobs := &dirBlobs{root: *dir}
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for i, s := range shares {
		pr, pw := io.Pipe()
		go func() {
			bw := bufio.NewWriterSize(pw, 1<<20)
			enc := json.NewEncoder(bw)
			for _, cat := range sortedKeys(s.cats) {
				count := int(float64(*n) * s.cats[cat])
				if i == len(shares)-1 && cat == sortedKeys(s.cats)[len(s.cats)-1] {
					count = *n - total // the rest, so the total is exact
				}
				total += count
				for k := range count {
					if err := enc.Encode(dsar.ExportRecord{Category: cat, Record: record(rng, cat, k)}); err != nil {
						pw.CloseWithError(err)
						return
					}
				}
			}
			pw.CloseWithError(bw.Flush())
		}()
		if _, err := blobs.Put(context.Background(), dsar.ExportBlobKey(caseID, s.task), pr); err != nil {
			return err
		}
	}
	fmt.Printf("GENERATE records=%d\n", total)
	return nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

var pages = []string{"/", "/priser", "/produkter/survey", "/kontakt", "/blogg/personvern-i-praksis", "/e-bok/medarbeiderundersokelse"}

func record(rng *rand.Rand, cat string, k int) json.RawMessage {
	var v any
	switch cat {
	case "contact":
		v = map[string]any{"id": k, "name": fmt.Sprintf("Kari Nordmann %d", k), "email": fmt.Sprintf("kari.%d@example.no", k),
			"company": "Fjord & Fjell AS", "phone": fmt.Sprintf("+47 9%07d", rng.IntN(10000000)),
			"lists": []string{"nyhetsbrev", "e-bok"}, "created": time.Unix(1700000000+int64(k), 0).UTC().Format(time.RFC3339)}
	case "usage":
		v = map[string]any{"at": time.Unix(1760000000+int64(k)*7, 0).UTC().Format(time.RFC3339), "page": pages[rng.IntN(len(pages))],
			"ip": fmt.Sprintf("203.0.113.%d", rng.IntN(255)), "device": map[string]any{"os": "Android", "browser": "Firefox", "width": 390},
			"duration_ms": rng.IntN(60000), "consent": true}
	default:
		v = map[string]any{"interests": []string{"HR", "ledelse", "analyse"}, "segment": "SMB", "score": rng.Float64(), "updated": k}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// theCase is the case whose exports generate wrote.
func theCase(dir string, typ dsar.RequestType) (export.Case, error) {
	cs, err := dsar.DefaultControllers()
	if err != nil {
		return export.Case{}, err
	}
	c, _ := cs.Get("proviso")
	tasks := []*dsar.Task{{ID: "t-cst", System: "cst-mailbox", Action: dsar.ActionExport, Status: dsar.TaskNoData}}
	for _, s := range shares {
		tasks = append(tasks, &dsar.Task{ID: s.task, System: s.system, Action: dsar.ActionExport, Status: dsar.TaskDone})
	}
	r := &dsar.Request{ID: caseID, Reference: "PRV-BENCH-1", Type: typ, Language: dsar.LanguageNB, Controller: c.Key,
		ReceivedAt: time.Now().Add(-72 * time.Hour)}
	return export.Case{Blobs: &dirBlobs{root: dir}, Controller: c, Request: r, Tasks: tasks, Now: time.Now()}, nil
}

// countingFile is an output file that counts what is written to it.
type countingFile struct {
	f *os.File
	n int64
}

func (c *countingFile) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.n += int64(n)
	return n, err
}

func timed(path string, fn func(io.Writer) error) (int64, time.Duration, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cf := &countingFile{f: f}
	start := time.Now()
	if err := fn(cf); err != nil {
		return 0, 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	return cf.n, time.Since(start), f.Close()
}

func assemble(args []string) error {
	fl := flag.NewFlagSet("assemble", flag.ExitOnError)
	dir := fl.String("dir", "", "blob directory generate wrote")
	out := fl.String("out", "", "directory for report.html, report.json and package.zip")
	prof := fl.String("cpuprofile", "", "write a CPU profile of the package's assembly to this file")
	repeat := fl.Int("repeat", 1, "assemble the package this many times and report the fastest (a shared machine is noisy)")
	fl.Parse(args)
	if *dir == "" || *out == "" {
		return errors.New("assemble: -dir and -out are required")
	}
	ctx := context.Background()
	access, err := theCase(*dir, dsar.TypeAccess)
	if err != nil {
		return err
	}
	hb, hd, err := timed(filepath.Join(*out, "report.html"), func(w io.Writer) error { return export.WriteReportHTML(ctx, w, access) })
	if err != nil {
		return err
	}
	jb, jd, err := timed(filepath.Join(*out, "report.json"), func(w io.Writer) error { return export.WriteReportJSON(ctx, w, access) })
	if err != nil {
		return err
	}
	port, err := theCase(*dir, dsar.TypePortability)
	if err != nil {
		return err
	}
	var m *export.Manifest
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	zb, zd, err := fastest(*repeat, func() (int64, time.Duration, error) {
		return timed(filepath.Join(*out, "package.zip"), func(w io.Writer) error {
			var err error
			m, err = export.WritePackage(ctx, w, port)
			return err
		})
	})
	if err != nil {
		return err
	}
	var content int64
	records := 0
	for _, f := range m.Files {
		content += f.Bytes
		if f.Format == "json" {
			records += f.Records
		}
	}
	for _, l := range m.LeftOut {
		records += l.Records
	}
	fmt.Printf("ASSEMBLE records=%d html_bytes=%d html_s=%.3f json_bytes=%d json_s=%.3f zip_bytes=%d zip_content_bytes=%d zip_s=%.3f\n",
		records, hb, hd.Seconds(), jb, jd.Seconds(), zb, content, zd.Seconds())
	return nil
}

// baseline extracts the package's files (not timed), then writes them
// through archive/zip alone, with the same names and method, into a new
// ZIP (timed): what writing the same bytes costs without reading and
// converting the export.
func baseline(args []string) error {
	fl := flag.NewFlagSet("baseline", flag.ExitOnError)
	pkg := fl.String("zip", "", "the package assemble wrote")
	out := fl.String("out", "", "directory for the extracted files and baseline.zip")
	repeat := fl.Int("repeat", 1, "write the ZIP this many times and report the fastest")
	fl.Parse(args)
	if *pkg == "" || *out == "" {
		return errors.New("baseline: -zip and -out are required")
	}
	zr, err := zip.OpenReader(*pkg)
	if err != nil {
		return err
	}
	defer zr.Close()
	ex := filepath.Join(*out, "extracted")
	var names []string
	for i, f := range zr.File {
		path := filepath.Join(ex, fmt.Sprintf("%03d", i))
		if err := os.MkdirAll(ex, 0o755); err != nil {
			return err
		}
		if err := extract(f, path); err != nil {
			return err
		}
		names = append(names, f.Name)
	}
	var content int64
	zb, zd, err := fastest(*repeat, func() (int64, time.Duration, error) {
		content = 0
		return timed(filepath.Join(*out, "baseline.zip"), func(w io.Writer) error { return zipFiles(w, ex, names, &content) })
	})
	if err != nil {
		return err
	}
	fmt.Printf("BASELINE zip_content_bytes=%d zip_bytes=%d zip_s=%.3f\n", content, zb, zd.Seconds())
	return os.RemoveAll(ex)
}

// fastest runs fn n times and returns the run that took the least time.
func fastest(n int, fn func() (int64, time.Duration, error)) (int64, time.Duration, error) {
	var (
		bytes int64
		best  time.Duration
	)
	for i := range max(n, 1) {
		b, d, err := fn()
		if err != nil {
			return 0, 0, err
		}
		if i == 0 || d < best {
			bytes, best = b, d
		}
	}
	return bytes, best, nil
}

// zipFiles writes the extracted files through archive/zip alone.
func zipFiles(w io.Writer, ex string, names []string, content *int64) error {
	zw := zip.NewWriter(w)
	for i, name := range names {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(ex, fmt.Sprintf("%03d", i)))
		if err != nil {
			return err
		}
		n, err := io.Copy(ew, f)
		f.Close()
		if err != nil {
			return err
		}
		*content += n
	}
	return zw.Close()
}

func extract(f *zip.File, path string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// dirBlobs is a minimal dsar.Blobs on a directory, for this benchmark
// only: keys are paths under root, Put writes a temporary file and renames
// it. The service's own store (encrypted at rest) is store/blob.
type dirBlobs struct{ root string }

var _ dsar.Blobs = (*dirBlobs)(nil)

func (d *dirBlobs) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

func (d *dirBlobs) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

func (d *dirBlobs) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %s", key)
	}
	return f, err
}

func (d *dirBlobs) Delete(_ context.Context, prefix string) error {
	return d.List(context.Background(), prefix, func(key string) error { return os.Remove(d.path(key)) })
}

func (d *dirBlobs) List(_ context.Context, prefix string, fn func(string) error) error {
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".put-") {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			return fn(key)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
