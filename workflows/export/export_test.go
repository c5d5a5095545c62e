package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/dsar-project/dsar"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// memBlobs is a dsar.Blobs in memory, for the tests.
type memBlobs struct {
	mu    sync.Mutex
	files map[string][]byte
	opens int
}

func (m *memBlobs) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[key] = b
	return int64(len(b)), nil
}

func (m *memBlobs) Open(_ context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[key]
	if !ok {
		return nil, dsar.Errorf(dsar.ENOTFOUND, "no blob %s", key)
	}
	m.opens++
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memBlobs) Delete(_ context.Context, prefix string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.files {
		if strings.HasPrefix(k, prefix) {
			delete(m.files, k)
		}
	}
	return nil
}

func (m *memBlobs) List(_ context.Context, prefix string, fn func(string) error) error {
	m.mu.Lock()
	var keys []string
	for k := range m.files {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

var _ dsar.Blobs = (*memBlobs)(nil)

func proviso(t *testing.T) *dsar.Controller {
	t.Helper()
	cs, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cs.Get("proviso")
	if !ok {
		t.Fatal("no proviso")
	}
	return c
}

// jsonl writes records as the collection writes them.
func jsonl(t *testing.T, recs ...dsar.ExportRecord) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func rec(cat, raw string) dsar.ExportRecord {
	return dsar.ExportRecord{Category: cat, Record: json.RawMessage(raw)}
}

const caseID = "case-1"

// seedCase is the golden case: a Proviso subject whose data HubSpot,
// the profiling module and Google Ads gave, the CST mailbox held nothing
// about, and Hotjar was skipped; part of the answer is refused.
func seedCase(t *testing.T, typ dsar.RequestType, lang dsar.Language) (Case, *memBlobs) {
	t.Helper()
	c := proviso(t)
	blobs := &memBlobs{}
	put := func(task string, b []byte) {
		if _, err := blobs.Put(context.Background(), dsar.ExportBlobKey(caseID, task), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	put("t-hubspot", jsonl(t,
		rec("contact", `{"id":101,"name":"Kari Nordmann","email":"kari@example.no","company":"Fjord & Fjell AS","phone":null}`),
		rec("usage", `{"at":"2026-10-01T08:00:00Z","page":"/priser?plan=<pro>","device":{"os":"Android","browser":"Firefox"}}`),
		rec("contact", `{"id":102,"name":"Kari Nordmann","email":"kari@example.no","lists":["nyhetsbrev","e-bok"],"note":"Sier \"hei\"\nto linjer"}`),
		rec("usage", `{"at":"2026-10-02T09:30:00Z","page":"/","consent":true,"score":0.5}`),
	))
	put("t-profiling", jsonl(t,
		rec("profiling", `{"interests":["HR","ledelse"],"segment":"SMB"}`),
		rec("", `"a bare value without a category"`),
	))
	put("t-ads", []byte("{\"category\": \"usage\", \"record\": {\"click_id\": \"gclid-1\", \"campaign\": \"Vår\"}}\n\n"))
	r := &dsar.Request{ID: caseID, Reference: "PRV-2026-0042", Type: typ, Language: lang, Controller: "proviso",
		ReceivedAt: time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)}
	if typ == dsar.TypeAccess {
		r.Decision = dsar.Decision{Partial: true, Ground: dsar.GroundOthersRights, Part: "E-poster der andre kunder er nevnt",
			Text: "E-postene nevner andre kunder ved navn."}
	}
	tasks := []*dsar.Task{
		{ID: "t-hubspot", System: "hubspot", Action: dsar.ActionExport, Status: dsar.TaskDone, Count: 4},
		{ID: "t-profiling", System: "profiling", Action: dsar.ActionExport, Status: dsar.TaskDone, Count: 2},
		{ID: "t-cst", System: "cst-mailbox", Action: dsar.ActionExport, Status: dsar.TaskNoData},
		{ID: "t-trial", System: "trial-accounts", Action: dsar.ActionExport, Status: dsar.TaskDone, Count: 0},
		{ID: "t-hotjar", System: "hotjar", Action: dsar.ActionExport, Status: dsar.TaskSkipped, Reason: "Hotjar svarte ikke innen 30 dager"},
		{ID: "t-ads", System: "google-ads", Action: dsar.ActionExport, Status: dsar.TaskDone, Count: 1},
	}
	put("t-trial", nil)
	return Case{Blobs: blobs, Controller: c, Request: r, Tasks: tasks, Now: time.Date(2026, 11, 20, 13, 0, 0, 0, time.UTC)}, blobs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

func TestReportGolden(t *testing.T) {
	for _, lang := range dsar.Languages {
		t.Run(string(lang), func(t *testing.T) {
			c, _ := seedCase(t, dsar.TypeAccess, lang)
			var h, j bytes.Buffer
			if err := WriteReportHTML(context.Background(), &h, c); err != nil {
				t.Fatal(err)
			}
			if err := WriteReportJSON(context.Background(), &j, c); err != nil {
				t.Fatal(err)
			}
			golden(t, "report.proviso."+string(lang)+".html", h.Bytes())
			golden(t, "report.proviso."+string(lang)+".json", j.Bytes())
		})
	}
}

// The page is accessible as a document: its language, headings in order,
// every table with a caption and every header cell with a scope, and what
// came from the systems escaped.
func TestReportHTMLAccessible(t *testing.T) {
	for _, lang := range dsar.Languages {
		c, _ := seedCase(t, dsar.TypeAccess, lang)
		var b bytes.Buffer
		if err := WriteReportHTML(context.Background(), &b, c); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var (
			htmlLang              string
			headings              []int
			tables, captions, ths int
			scripts               int
			dataRows              int
		)
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "html":
					htmlLang = attr(n, "lang")
				case "h1", "h2", "h3", "h4":
					headings = append(headings, int(n.Data[1]-'0'))
				case "table":
					tables++
					first := n.FirstChild
					for first != nil && first.Type != html.ElementNode {
						first = first.NextSibling
					}
					if first == nil || first.Data != "caption" || strings.TrimSpace(text(first)) == "" {
						t.Errorf("%s: a table without a caption first", lang)
					} else {
						captions++
					}
					if strings.HasPrefix(attr(n, "id"), "data-") {
						dataRows += len(findAll(n, "tr")) - 1
					}
				case "th":
					ths++
					if s := attr(n, "scope"); s != "col" && s != "row" {
						t.Errorf("%s: <th>%s</th> without scope", lang, text(n))
					}
				case "script":
					scripts++
				}
			}
			for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
				walk(ch)
			}
		}
		walk(doc)
		if htmlLang != string(lang) {
			t.Errorf("lang = %q, want %q", htmlLang, lang)
		}
		if len(headings) == 0 || headings[0] != 1 || slices.Index(headings[1:], 1) >= 0 {
			t.Errorf("%s: headings %v: want one h1 first", lang, headings)
		}
		for i := 1; i < len(headings); i++ {
			if headings[i] > headings[i-1]+1 {
				t.Errorf("%s: heading level jumps from %d to %d", lang, headings[i-1], headings[i])
			}
		}
		if scripts != 0 {
			t.Errorf("%s: %d script elements: a value was not escaped", lang, scripts)
		}
		// systems, categories, recipients, transfers, and the data tables:
		// hubspot contact and usage, profiling and its uncategorised value,
		// google-ads usage.
		if tables != 4+5 || captions != tables || ths == 0 {
			t.Errorf("%s: %d tables, %d captions, %d th", lang, tables, captions, ths)
		}
		if dataRows != 7 {
			t.Errorf("%s: %d data rows, want 7", lang, dataRows)
		}
		if !strings.Contains(b.String(), "/priser?plan=&lt;pro&gt;") {
			t.Errorf("%s: a value with markup is not shown escaped", lang)
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}

func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		out = append(out, findAll(ch, tag)...)
	}
	return out
}

// The JSON form holds every record of every done system, grouped by
// system and category, as the systems gave them.
func TestReportJSONData(t *testing.T) {
	c, _ := seedCase(t, dsar.TypeAccess, dsar.LanguageEN)
	var b bytes.Buffer
	if err := WriteReportJSON(context.Background(), &b, c); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Processed bool `json:"processed"`
		Refusal   *struct {
			Ground string `json:"ground"`
		} `json:"refusal"`
		Data []struct {
			System   string            `json:"system"`
			Category string            `json:"category"`
			Records  []json.RawMessage `json:"records"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	var groups []string
	for _, d := range got.Data {
		groups = append(groups, d.System+"/"+d.Category+":"+string(rune('0'+len(d.Records))))
	}
	want := []string{"hubspot/contact:2", "hubspot/usage:2", "profiling/profiling:1", "profiling/:1", "google-ads/usage:1"}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("data groups (-want +got):\n%s", diff)
	}
	if !got.Processed || got.Refusal == nil || got.Refusal.Ground != "art15_4" {
		t.Errorf("processed %v, refusal %+v", got.Processed, got.Refusal)
	}
	if string(got.Data[0].Records[1]) != `{"id":102,"name":"Kari Nordmann","email":"kari@example.no","lists":["nyhetsbrev","e-bok"],"note":"Sier \"hei\"\nto linjer"}` {
		t.Errorf("record changed on the way: %s", got.Data[0].Records[1])
	}
}

func TestReportRefusesUnfinishedTasks(t *testing.T) {
	c, _ := seedCase(t, dsar.TypeAccess, dsar.LanguageEN)
	c.Tasks[0].Status = dsar.TaskWaitingPerson
	for name, write := range map[string]func() error{
		"html": func() error { return WriteReportHTML(context.Background(), io.Discard, c) },
		"json": func() error { return WriteReportJSON(context.Background(), io.Discard, c) },
	} {
		if err := write(); dsar.ErrorCode(err) != dsar.ECONFLICT {
			t.Errorf("%s: err = %v, want conflict", name, err)
		}
	}
}

func TestMalformedExportFails(t *testing.T) {
	tests := map[string]string{
		"not JSON":          "{\"category\":\"contact\",\"record\":{\"id\":1,}}\n",
		"no record":         "{\"category\":\"contact\"}\n",
		"garbage":           "hello\n",
		"unterminated line": "{\"category\":\"contact\",\"record\":{\"id\":\"1}\n",
	}
	for name, body := range tests {
		c, blobs := seedCase(t, dsar.TypeAccess, dsar.LanguageEN)
		blobs.files[dsar.ExportBlobKey(caseID, "t-hubspot")] = []byte(body)
		if err := WriteReportHTML(context.Background(), io.Discard, c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCancelledContextStops(t *testing.T) {
	c, blobs := seedCase(t, dsar.TypePortability, dsar.LanguageEN)
	var b bytes.Buffer
	for i := range 10000 {
		b.Write(jsonl(t, rec("contact", `{"id":`+string(rune('0'+i%10))+`}`)))
	}
	blobs.files[dsar.ExportBlobKey(caseID, "t-hubspot")] = b.Bytes()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WritePackage(ctx, io.Discard, c); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPackage(t *testing.T) {
	c, _ := seedCase(t, dsar.TypePortability, dsar.LanguageNB)
	var b bytes.Buffer
	m, err := WritePackage(context.Background(), &b, c)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = body
		names = append(names, f.Name)
	}
	// profiling is derived (it has a source) and on legitimate interest;
	// the uncategorised value is not in the data map: both left out.
	wantNames := []string{"hubspot/contact.json", "hubspot/contact.csv", "hubspot/usage.json", "hubspot/usage.csv",
		"google-ads/usage.json", "google-ads/usage.csv", ManifestName}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var onDisk Manifest
	if err := json.Unmarshal(files[ManifestName], &onDisk); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*m, onDisk); diff != "" {
		t.Errorf("returned and written manifests differ (-returned +written):\n%s", diff)
	}
	if onDisk.SchemaVersion != PackageSchemaVersion || onDisk.CaseReference != "PRV-2026-0042" || !onDisk.Created.Equal(c.Now) {
		t.Errorf("manifest head = %+v", onDisk)
	}
	if diff := cmp.Diff([]LeftOut{{System: "profiling", Category: "profiling", Records: 1}, {System: "profiling", Category: "", Records: 1}}, onDisk.LeftOut); diff != "" {
		t.Errorf("left out (-want +got):\n%s", diff)
	}
	for _, f := range onDisk.Files {
		body := files[f.Name]
		sum := sha256.Sum256(body)
		if f.Bytes != int64(len(body)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: manifest says %d bytes %s, file has %d bytes %x", f.Name, f.Bytes, f.SHA256, len(body), sum)
		}
	}
	var arr []map[string]any
	if err := json.Unmarshal(files["hubspot/contact.json"], &arr); err != nil || len(arr) != 2 || arr[1]["note"] != "Sier \"hei\"\nto linjer" {
		t.Errorf("contact.json = %v, %v", arr, err)
	}
	rows, err := csv.NewReader(bytes.NewReader(files["hubspot/contact.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"id", "name", "email", "company", "phone", "lists", "note"},
		{"101", "Kari Nordmann", "kari@example.no", "Fjord & Fjell AS", "", "", ""},
		{"102", "Kari Nordmann", "kari@example.no", "", "", `["nyhetsbrev","e-bok"]`, "Sier \"hei\"\nto linjer"},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("contact.csv (-want +got):\n%s", diff)
	}
	rows, err = csv.NewReader(bytes.NewReader(files["hubspot/usage.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows = [][]string{
		{"at", "page", "device", "consent", "score"},
		{"2026-10-01T08:00:00Z", "/priser?plan=<pro>", `{"os":"Android","browser":"Firefox"}`, "", ""},
		{"2026-10-02T09:30:00Z", "/", "", "true", "0.5"},
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("usage.csv (-want +got):\n%s", diff)
	}
	if files["google-ads/usage.csv"] == nil || !strings.Contains(string(files["google-ads/usage.csv"]), "Vår") {
		t.Errorf("google-ads/usage.csv = %q", files["google-ads/usage.csv"])
	}
}

func TestPackageOnlyForPortability(t *testing.T) {
	c, _ := seedCase(t, dsar.TypeAccess, dsar.LanguageNB)
	if _, err := WritePackage(context.Background(), io.Discard, c); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("err = %v, want conflict", err)
	}
}

func TestMembers(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{`{}`, nil, false},
		{` { "a" : 1 , "b":{"c":[1,{"d":"}"}]}, "e\"f":"x\\"} `, []string{`a=1`, `b={"c":[1,{"d":"}"}]}`, `e"f="x\\"`}, false},
		{`{"a":1`, nil, true},
		{`{"a"}`, nil, true},
		{`{"a":"unterminated}`, nil, true},
		{`[1]`, nil, true},
		{`{"a":1 "b":2}`, nil, true},
	}
	for _, tt := range tests {
		var got []string
		err := members([]byte(tt.in), func(k []byte, escaped bool, v []byte) {
			name, _ := keyString(k, escaped)
			got = append(got, name+"="+string(v))
		})
		if (err != nil) != tt.err {
			t.Errorf("members(%s) err = %v", tt.in, err)
			continue
		}
		if !tt.err {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("members(%s) (-want +got):\n%s", tt.in, diff)
			}
		}
	}
}

func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[{"c":"}"}]}`, `{"a`, `{"\u00e6":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		err := members(b, func(k []byte, escaped bool, _ []byte) {
			if name, err := keyString(k, escaped); err == nil {
				keys = append(keys, name)
			}
		})
		if err == nil && json.Valid(b) {
			var m map[string]json.RawMessage
			if json.Unmarshal(b, &m) == nil {
				for _, k := range keys {
					if _, ok := m[k]; !ok {
						t.Fatalf("key %q not in %s", k, b)
					}
				}
			}
		}
	})
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return len(p), nil
}

// A failing output stops the package with its error, whatever stage of
// the pipeline meets it, and the run ends (no goroutine waits forever).
func TestPackageOutputFails(t *testing.T) {
	c, blobs := seedCase(t, dsar.TypePortability, dsar.LanguageEN)
	var b bytes.Buffer
	for i := range 20000 {
		b.Write(jsonl(t, rec("usage", `{"at":"2026-10-01T08:00:00Z","n":`+strings.Repeat("1", 1+i%7)+`}`)))
	}
	blobs.files[dsar.ExportBlobKey(caseID, "t-hubspot")] = b.Bytes()
	var whole bytes.Buffer
	if _, err := WritePackage(context.Background(), &whole, c); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, whole.Len() / 2, whole.Len() - 10} {
		if _, err := WritePackage(context.Background(), &failingWriter{n: n}, c); !errors.Is(err, errDiskFull) {
			t.Errorf("after %d bytes: err = %v, want the writer's error", n, err)
		}
	}
}

func TestPipeTo(t *testing.T) {
	var out bytes.Buffer
	want := strings.Repeat("0123456789", 50000)
	err := pipeTo(&out, func(w io.Writer) error {
		for i := 0; i < len(want); i += 777 {
			if _, err := io.WriteString(w, want[i:min(i+777, len(want))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || out.String() != want {
		t.Errorf("pipeTo: err %v, %d bytes of %d, equal %v", err, out.Len(), len(want), out.String() == want)
	}
	errFn := errors.New("producer failed")
	if err := pipeTo(io.Discard, func(io.Writer) error { return errFn }); !errors.Is(err, errFn) {
		t.Errorf("err = %v, want the producer's", err)
	}
}

// Lines longer than the reader's buffer, lines with a field after the
// record, and lines in another field order are all read; a line longer
// than MaxLine fails the export.
func TestUnusualLines(t *testing.T) {
	long := strings.Repeat("æøå", 100000) // 600 kB
	c, blobs := seedCase(t, dsar.TypePortability, dsar.LanguageEN)
	blobs.files[dsar.ExportBlobKey(caseID, "t-hubspot")] = []byte(
		`{"category":"contact","record":{"id":1,"bio":"` + long + `"}}` + "\n" +
			`{"category":"contact","record":{"id":2},"note":"added by hand"}` + "\n" +
			`{"record":{"id":3},"category":"contact"}` + "\r\n" +
			`{"category":"contact","record":{"id":4,"` + "\xb5" + `":"invalid UTF-8 key"}}`) // no final line break
	var b bytes.Buffer
	if _, err := WritePackage(context.Background(), &b, c); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("hubspot/contact.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(rc).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"id", "bio", "\uFFFD"}, {"1", long, ""}, {"2", "", ""}, {"3", "", ""}, {"4", "", "invalid UTF-8 key"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("contact.csv (-want +got):\n%.2000s", diff)
	}

	blobs.files[dsar.ExportBlobKey(caseID, "t-hubspot")] = []byte(`{"category":"contact","record":{"bio":"` + strings.Repeat("x", MaxLine) + `"}}` + "\n")
	if _, err := WritePackage(context.Background(), io.Discard, c); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("a line over MaxLine: err = %v", err)
	}
}

// TestRedactedRecordsAreLeftOut: the records officers left out (Art 15(4))
// are in neither the report nor the package, and the report says how many
// were left out.
func TestRedactedRecordsAreLeftOut(t *testing.T) {
	c, _ := seedCase(t, dsar.TypeAccess, dsar.LanguageEN)
	for _, task := range c.Tasks {
		if task.System == "hubspot" {
			c.Redacted = map[string][]int{task.ID: {1}}
		}
	}
	if c.Redacted == nil {
		t.Fatal("no hubspot task")
	}
	var b bytes.Buffer
	if err := WriteReportJSON(context.Background(), &b, c); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Withheld int `json:"withheld"`
		Data     []struct {
			System   string            `json:"system"`
			Category string            `json:"category"`
			Records  []json.RawMessage `json:"records"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Withheld != 1 || got.Data[0].System != "hubspot" || len(got.Data[0].Records) != 1 || bytes.Contains(b.Bytes(), []byte(`"id":101`)) {
		t.Errorf("withheld %d, first group %+v", got.Withheld, got.Data[0])
	}
	b.Reset()
	if err := WriteReportHTML(context.Background(), &b, c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte(`id="withheld"`)) {
		t.Error("the page does not say a record was left out")
	}
}

// TestDoneTaskWithoutDataGivesNoRecords: an export done with nothing
// collected (a vendor confirmed it by mail) gives no records, and the
// answer is written all the same.
func TestDoneTaskWithoutDataGivesNoRecords(t *testing.T) {
	c, _ := seedCase(t, dsar.TypeAccess, dsar.LanguageEN)
	for _, task := range c.Tasks {
		if task.System == "hubspot" {
			if err := c.Blobs.Delete(context.Background(), dsar.ExportBlobKey(c.Request.ID, task.ID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := WriteReportJSON(context.Background(), &b, c); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte(`"system":"hubspot","category"`)) {
		t.Errorf("records of a task with no data: %.300s", b.String())
	}
}
