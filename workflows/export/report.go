package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// Case is one case's collected data and what it belongs to: the blobs the
// export tasks wrote, the controller (its data map), the request and its
// tasks, and the time the answer is written.
type Case struct {
	Blobs      dsar.Blobs
	Controller *dsar.Controller
	Request    *dsar.Request
	Tasks      []*dsar.Task
	Now        time.Time
	// Redacted are the records officers left out (Art 15(4)): the lines
	// (from 1, sorted) of each task's export, by task ID.
	Redacted map[string][]int
}

// report builds the case's access report, with times in the controller's
// zone.
func (c Case) report() (*dsar.AccessReport, error) {
	rep, err := dsar.NewAccessReport(c.Controller, c.Request, c.Tasks, c.Now)
	if err != nil {
		return nil, err
	}
	if loc := c.Controller.Location; loc != nil {
		rep.ReceivedAt, rep.CreatedAt = rep.ReceivedAt.In(loc), rep.CreatedAt.In(loc)
	}
	for _, lines := range c.Redacted {
		rep.Withheld += len(lines)
	}
	return rep, nil
}

// categoryName names a category of the controller's data map by its key;
// "" for the records a system put under no category.
func (c Case) categoryName(key string) string {
	if d, ok := c.Controller.DataCategory(key); ok {
		return d.Name
	}
	return key
}

// systemData is what the first pass found in the export of one system
// whose task is done: its categories with their counts and columns.
type systemData struct {
	system dsar.ReportSystem
	src    *source
}

// scanAll makes the first pass over the export of every done system of
// the report, and sets each system's record count to what its export
// holds (a person's task may have recorded none).
func (c Case) scanAll(ctx context.Context, rep *dsar.AccessReport) ([]systemData, error) {
	var out []systemData
	for i := range rep.Systems {
		s := &rep.Systems[i]
		if s.Status != dsar.TaskDone {
			continue
		}
		key := dsar.ExportBlobKey(c.Request.ID, s.Task)
		sys, _ := c.Controller.System(s.Key)
		src, err := scan(ctx, c.Blobs, key, sys, c.Redacted[s.Task])
		if err != nil {
			return nil, err
		}
		s.Records = 0
		for _, cat := range src.cats {
			s.Records += cat.Records
		}
		out = append(out, systemData{system: *s, src: src})
	}
	return out, nil
}

// WriteReportHTML writes the answer to the case's access request (Art 15)
// to w as an HTML page in the subject's language: every part of the answer
// (dsar.AccessReport), then a copy of the data, one table per system and
// category, written while the collected exports are read.
func WriteReportHTML(ctx context.Context, w io.Writer, c Case) error {
	rep, err := c.report()
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	lang := rep.Language
	if !lang.Valid() {
		lang = c.Controller.Languages[0]
		rep.Language = lang
	}
	found, err := c.scanAll(ctx, rep)
	if err != nil {
		return err
	}
	if err := templates.RenderReportPart(bw, lang, templates.ReportHead, rep); err != nil {
		return err
	}
	table := 0
	for _, f := range found {
		s := f.system
		if err := templates.RenderReportPart(bw, lang, templates.ReportSystem, templates.ReportSystemView{System: s, Empty: len(f.src.cats) == 0}); err != nil {
			return err
		}
		for _, cat := range f.src.cats {
			table++
			t := templates.ReportTable{ID: "data-" + strconv.Itoa(table), Category: c.categoryName(cat.Key), Columns: cat.Columns, Records: cat.Records}
			if err := templates.RenderReportPart(bw, lang, templates.ReportTableStart, t); err != nil {
				return err
			}
			rs := newRows(cat)
			err := f.src.each(ctx, cat.Key, func(rec []byte) error {
				cells, err := rs.row(rec)
				if err != nil {
					return err
				}
				return templates.RenderReportPart(bw, lang, templates.ReportRow, cells)
			})
			if err != nil {
				return err
			}
			if err := templates.RenderReportPart(bw, lang, templates.ReportTableEnd, t); err != nil {
				return err
			}
		}
	}
	if err := templates.RenderReportPart(bw, lang, templates.ReportTail, rep); err != nil {
		return err
	}
	return bw.Flush()
}

// ReportSchemaVersion is the version of the JSON form of the access report
// (WriteReportJSON); it changes when a field changes meaning or goes.
const ReportSchemaVersion = 1

// reportJSON is the JSON form of the report without its data.
type reportJSON struct {
	SchemaVersion int                `json:"schema_version"`
	Reference     string             `json:"reference"`
	Language      dsar.Language      `json:"language"`
	ReceivedAt    time.Time          `json:"received_at"`
	CreatedAt     time.Time          `json:"created_at"`
	Controller    controllerJSON     `json:"controller"`
	Authority     authorityJSON      `json:"supervisory_authority"`
	Processed     bool               `json:"processed"`
	Refusal       *refusalJSON       `json:"refusal"`
	Withheld      int                `json:"withheld"`
	Systems       []systemJSON       `json:"systems"`
	Categories    []categoryJSON     `json:"categories"`
	Recipients    []recipientJSON    `json:"recipients"`
	Transfers     []transferJSON     `json:"transfers"`
	Decisions     []decisionJSON     `json:"automated_decisions"`
	Rights        []dsar.RequestType `json:"rights"`
}

type controllerJSON struct {
	Name      string `json:"name"`
	OrgNumber string `json:"org_number,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Address   string `json:"address,omitempty"`
}

type authorityJSON struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Website string `json:"website,omitempty"`
	Email   string `json:"email,omitempty"`
}

type refusalJSON struct {
	Ground dsar.Ground `json:"ground"`
	Text   string      `json:"text,omitempty"`
	Part   string      `json:"part,omitempty"`
}

type systemJSON struct {
	Key        string            `json:"key"`
	Name       string            `json:"name"`
	Vendor     string            `json:"vendor,omitempty"`
	Country    string            `json:"country,omitempty"`
	Status     dsar.TaskStatus   `json:"status"`
	Reason     string            `json:"reason,omitempty"`
	Records    int               `json:"records"`
	Purposes   []string          `json:"purposes"`
	LegalBases []dsar.LegalBasis `json:"legal_bases"`
	Categories []string          `json:"categories"`
	Recipients []string          `json:"recipients"`
}

type categoryJSON struct {
	Key        string            `json:"key"`
	Name       string            `json:"name"`
	Purpose    string            `json:"purpose,omitempty"`
	LegalBases []dsar.LegalBasis `json:"legal_bases"`
	Retention  string            `json:"retention"`
	Source     string            `json:"source,omitempty"`
}

type recipientJSON struct {
	Key       string         `json:"key"`
	Name      string         `json:"name"`
	Role      string         `json:"role"`
	Country   string         `json:"country,omitempty"`
	Safeguard dsar.Safeguard `json:"safeguard,omitempty"`
}

type transferJSON struct {
	To        string         `json:"to"`
	Country   string         `json:"country"`
	Safeguard dsar.Safeguard `json:"safeguard,omitempty"`
}

type decisionJSON struct {
	System       string `json:"system"`
	Name         string `json:"name"`
	Logic        string `json:"logic"`
	Significance string `json:"significance"`
}

func toJSON(rep *dsar.AccessReport) reportJSON {
	out := reportJSON{
		SchemaVersion: ReportSchemaVersion, Reference: rep.Reference, Language: rep.Language,
		ReceivedAt: rep.ReceivedAt, CreatedAt: rep.CreatedAt,
		Controller: controllerJSON{Name: rep.Controller.Name, OrgNumber: rep.Controller.OrgNumber,
			Email: rep.Controller.Contact.Email, Phone: rep.Controller.Contact.Phone, Address: rep.Controller.Contact.Address},
		Authority: authorityJSON{Name: rep.Authority.Name, Address: rep.Authority.Address, Website: rep.Authority.Website, Email: rep.Authority.Email},
		Processed: rep.Processed, Rights: rep.Rights,
		Systems: []systemJSON{}, Categories: []categoryJSON{}, Recipients: []recipientJSON{}, Transfers: []transferJSON{}, Decisions: []decisionJSON{},
	}
	out.Withheld = rep.Withheld
	if r := rep.Refusal; r != nil {
		out.Refusal = &refusalJSON{Ground: r.Ground, Text: r.Text, Part: r.Part}
	}
	for _, s := range rep.Systems {
		out.Systems = append(out.Systems, systemJSON{Key: s.Key, Name: s.Name, Vendor: s.Vendor, Country: s.Country, Status: s.Status,
			Reason: s.Reason, Records: s.Records, Purposes: s.Purposes, LegalBases: s.LegalBases, Categories: s.Categories, Recipients: orEmpty(s.Recipients)})
	}
	for _, d := range rep.Categories {
		out.Categories = append(out.Categories, categoryJSON{Key: d.Key, Name: d.Name, Purpose: d.Purpose, LegalBases: d.LegalBases, Retention: d.Retention, Source: d.Source})
	}
	for _, r := range rep.Recipients {
		out.Recipients = append(out.Recipients, recipientJSON{Key: r.Key, Name: r.Name, Role: r.Role, Country: r.Country, Safeguard: r.Safeguard})
	}
	for _, t := range rep.Transfers {
		out.Transfers = append(out.Transfers, transferJSON(t))
	}
	for _, d := range rep.Decisions {
		out.Decisions = append(out.Decisions, decisionJSON(d))
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteReportJSON writes the answer to the case's access request to w as
// one JSON object: the fields of the answer (schema_version, reference,
// controller, supervisory_authority, processed, refusal, systems,
// categories, recipients, transfers, automated_decisions, rights) and
// "data", an array of {system, category, category_name, records} with the
// records as the systems gave them, written while the exports are read.
func WriteReportJSON(ctx context.Context, w io.Writer, c Case) error {
	rep, err := c.report()
	if err != nil {
		return err
	}
	found, err := c.scanAll(ctx, rep)
	if err != nil {
		return err
	}
	head, err := json.Marshal(toJSON(rep))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// The object is closed after the data: write it without its '}'.
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"data":[`)
	first := true
	for _, f := range found {
		s := f.system
		for _, cat := range f.src.cats {
			if !first {
				bw.WriteByte(',')
			}
			first = false
			meta, err := json.Marshal(struct {
				System       string `json:"system"`
				Category     string `json:"category"`
				CategoryName string `json:"category_name"`
			}{s.Key, cat.Key, c.categoryName(cat.Key)})
			if err != nil {
				return err
			}
			bw.Write(meta[:len(meta)-1])
			bw.WriteString(`,"records":[`)
			n := 0
			err = f.src.each(ctx, cat.Key, func(rec []byte) error {
				if n > 0 {
					bw.WriteByte(',')
				}
				n++
				_, err := bw.Write(rec)
				return err
			})
			if err != nil {
				return err
			}
			bw.WriteString("]}")
		}
	}
	if _, err := bw.WriteString("]}\n"); err != nil {
		return fmt.Errorf("export: write report: %w", err)
	}
	return bw.Flush()
}
