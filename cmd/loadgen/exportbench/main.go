// Command exportbench measures the assembly of a subject's answer from a
// large collected export: the access report (HTML and JSON) and the
// portability ZIP of workflows/export, read from JSON Lines blobs in a
// directory, against archive/zip alone writing the same files.
//
//	exportbench generate -dir D -records 1000000   # write the blobs of one case (Proviso, five systems)
//	exportbench assemble -dir D -out O              # report.html, report.json and package.zip into O
//	exportbench compare -dir D -out O -n 5           # package.zip against archive/zip alone, alternately
//
// assemble and compare print one line each for scripts:
// "ASSEMBLE records=… html_bytes=… html_s=… json_bytes=… json_s=… zip_bytes=… zip_content_bytes=… zip_s=…"
// and "COMPARE runs=… zip_content_bytes=… package_s_min=… archive_zip_s_min=… ratio_median=… ratio_min=… ratio_max=…"
// (ratio: archive/zip's time over the package's on the same bytes, i.e.
// the package's throughput relative to archive/zip alone). Run assemble
// under /usr/bin/time -v for its peak RSS (cmd/loadgen/export_bench.sh does).
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
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
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
		fmt.Fprintln(os.Stderr, "usage: exportbench generate|assemble|compare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "generate":
		err = generate(os.Args[2:])
	case "assemble":
		err = assemble(os.Args[2:])
	case "compare":
		err = compare(os.Args[2:])
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
	blobs, err := blob.NewDir(*dir)
	if err != nil {
		return err
	}
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

func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

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
	blobs, err := blob.NewDir(dir)
	if err != nil {
		return export.Case{}, err
	}
	return export.Case{Blobs: blobs, Controller: c, Request: r, Tasks: tasks, Now: time.Now()}, nil
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
	zb, zd, err := timed(filepath.Join(*out, "package.zip"), func(w io.Writer) error {
		var err error
		m, err = export.WritePackage(ctx, w, port)
		return err
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

// compare writes the package and, from its files extracted once, the
// same files through archive/zip alone, n times each, alternately, so that
// both meet the same load of a shared machine; it reports the fastest run
// of each and the median of the n ratios of a pair.
func compare(args []string) error {
	fl := flag.NewFlagSet("compare", flag.ExitOnError)
	dir := fl.String("dir", "", "blob directory generate wrote")
	out := fl.String("out", "", "directory for the ZIPs and the extracted files")
	n := fl.Int("n", 5, "pairs of runs")
	fl.Parse(args)
	if *dir == "" || *out == "" {
		return errors.New("compare: -dir and -out are required")
	}
	port, err := theCase(*dir, dsar.TypePortability)
	if err != nil {
		return err
	}
	pkg, ex := filepath.Join(*out, "compare.zip"), filepath.Join(*out, "extracted")
	var (
		names            []string
		content          int64
		bestZip, bestRaw time.Duration
		ratios           []float64
	)
	for i := range max(*n, 1) {
		_, zd, err := timed(pkg, func(w io.Writer) error {
			_, err := export.WritePackage(context.Background(), w, port)
			return err
		})
		if err != nil {
			return err
		}
		if i == 0 {
			if names, err = extractAll(pkg, ex); err != nil {
				return err
			}
		}
		content = 0
		_, bd, err := timed(filepath.Join(*out, "baseline.zip"), func(w io.Writer) error { return zipFiles(w, ex, names, &content) })
		if err != nil {
			return err
		}
		if i == 0 || zd < bestZip {
			bestZip = zd
		}
		if i == 0 || bd < bestRaw {
			bestRaw = bd
		}
		ratios = append(ratios, bd.Seconds()/zd.Seconds())
	}
	slices.Sort(ratios)
	fmt.Printf("COMPARE runs=%d zip_content_bytes=%d package_s_min=%.3f archive_zip_s_min=%.3f ratio_median=%.2f ratio_min=%.2f ratio_max=%.2f\n",
		len(ratios), content, bestZip.Seconds(), bestRaw.Seconds(), ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	return os.RemoveAll(ex)
}

// extractAll writes the files of a ZIP into ex, numbered, and returns
// their names in order.
func extractAll(pkg, ex string) ([]string, error) {
	zr, err := zip.OpenReader(pkg)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	if err := os.MkdirAll(ex, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for i, f := range zr.File {
		if err := extract(f, filepath.Join(ex, fmt.Sprintf("%03d", i))); err != nil {
			return nil, err
		}
		names = append(names, f.Name)
	}
	return names, nil
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
