package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/dsar-project/dsar"
)

//go:embed messages/*.json
var messageFiles embed.FS

// catalogs maps each supported language to its flat key -> text catalog. It
// is filled once at start-up from the embedded files and never changed, so
// reading it needs no lock.
var catalogs = loadCatalogs()

// loadCatalogs reads, for every supported language, messages/<lang>.json and
// every messages/<part>.<lang>.json (the texts of one area, such as the pages),
// merged into one catalog; a key defined twice is an error. The files are
// embedded at compile time, so a broken one is a programming error that the
// tests catch; it panics rather than starting with a missing catalog.
func loadCatalogs() map[dsar.Language]map[string]string {
	out := make(map[dsar.Language]map[string]string, len(dsar.Languages))
	for _, lang := range dsar.Languages {
		parts, err := fs.Glob(messageFiles, "messages/*."+string(lang)+".json")
		if err != nil {
			panic(err)
		}
		out[lang] = map[string]string{}
		for _, name := range append([]string{"messages/" + string(lang) + ".json"}, parts...) {
			b, err := messageFiles.ReadFile(name)
			if err != nil {
				panic(fmt.Sprintf("templates: read message catalog %s: %v", name, err))
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				panic(fmt.Sprintf("templates: parse message catalog %s: %v", name, err))
			}
			for k, v := range m {
				if _, dup := out[lang][k]; dup {
					panic(fmt.Sprintf("templates: message key %s is defined twice (%s)", k, name))
				}
				out[lang][k] = v
			}
		}
	}
	return out
}

// T returns the message key in lang with its {name} placeholders filled in
// from params. A key missing in lang falls back to English, and a key missing
// there too is returned as it is, so that a missing text is visible but never
// breaks a page. Values are formatted with fmt's %v; slices (such as a
// []string of allowed values) are joined with ", ". A placeholder without a
// value in params is left as it is.
func T(lang dsar.Language, key string, params map[string]any) string {
	msg, ok := lookup(lang, key)
	if !ok {
		return key
	}
	return fill(msg, localise(lang, params))
}

// localise writes the domain's typed values among the parameters in words
// of lang: a status as the staff call it, a request type by its name. The
// other values stay as they are.
func localise(lang dsar.Language, params map[string]any) map[string]any {
	var out map[string]any
	for k, v := range params {
		var key string
		switch x := v.(type) {
		case dsar.Status:
			key = "staff_status." + string(x)
		case dsar.RequestType:
			key = "type." + string(x)
		case dsar.TaskStatus:
			key = "task_status." + string(x)
		default:
			continue
		}
		if msg, ok := lookup(lang, key); ok {
			if out == nil {
				out = maps.Clone(params)
			}
			out[k] = msg
		}
	}
	if out == nil {
		return params
	}
	return out
}

// lookup returns the text of key in lang, or in English when lang lacks it.
func lookup(lang dsar.Language, key string) (string, bool) {
	if msg, ok := catalogs[lang][key]; ok {
		return msg, true
	}
	msg, ok := catalogs[dsar.LanguageEN][key]
	return msg, ok
}

// Keys returns the sorted keys of the catalog of lang, or nil for an
// unsupported language.
func Keys(lang dsar.Language) []string {
	cat, ok := catalogs[lang]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(cat))
	for k := range cat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fill replaces each {name} placeholder of msg that has a value in params.
func fill(msg string, params map[string]any) string {
	if len(params) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	b.Grow(len(msg))
	for {
		start, end := nextPlaceholder(msg)
		if start < 0 {
			b.WriteString(msg)
			return b.String()
		}
		name := msg[start+1 : end-1]
		b.WriteString(msg[:start])
		if v, ok := params[name]; ok {
			b.WriteString(formatValue(v))
		} else {
			b.WriteString(msg[start:end])
		}
		msg = msg[end:]
	}
}

// placeholders returns the names of the {name} placeholders of msg in order.
func placeholders(msg string) []string {
	var names []string
	for {
		start, end := nextPlaceholder(msg)
		if start < 0 {
			return names
		}
		names = append(names, msg[start+1:end-1])
		msg = msg[end:]
	}
}

// nextPlaceholder returns the bounds [start, end) of the first {name} in s,
// where name is a letter or underscore followed by letters, digits,
// underscores or dots; start is -1 when there is none. Braces around anything
// else (JSON in a text, say) are left alone.
func nextPlaceholder(s string) (start, end int) {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		j := i + 1
		for j < len(s) && isNameByte(s[j], j == i+1) {
			j++
		}
		if j > i+1 && j < len(s) && s[j] == '}' {
			return i, j + 1
		}
	}
	return -1, -1
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '.':
		return !first
	}
	return false
}

// formatValue formats one placeholder value: nil as nothing, slices joined
// with ", ", everything else with %v.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, ", ")
	case []byte:
		return string(x)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = fmt.Sprintf("%v", rv.Index(i).Interface())
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%v", v)
}
