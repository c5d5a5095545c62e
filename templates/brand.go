package templates

import (
	"fmt"
	htmltemplate "html/template"
	"math"
	"strings"
)

// Brand is how a controller's pages look: its name, logo and colours, with
// the service's own defaults where the controller configures none (and
// where its colours would not reach WCAG 2.1 AA contrast).
type Brand struct {
	Name         string
	Logo         string
	PrimaryColor string // #rrggbb
	AccentColor  string // #rrggbb
}

// The service's own colours, used where a controller configures none or its
// primary colour would not be readable. Both reach over 4.5:1 against white.
const (
	DefaultPrimaryColor = "#0b5394"
	DefaultAccentColor  = "#0a2e57"
)

// minTextContrast is the contrast the primary brand colour must reach
// against white (WCAG 2.1 success criterion 1.4.3, level AA): it is the
// background of buttons and of the header, under white text, and the colour
// of links on white. The accent colour only draws the decorative band under
// the header, which conveys nothing, so it only has to be a colour.
const minTextContrast = 4.5

// rgb is a colour with 8-bit channels.
type rgb struct{ r, g, b uint8 }

// parseHexColor reads a #rrggbb colour (either case).
func parseHexColor(s string) (rgb, bool) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, false
	}
	var c [3]uint8
	for i := range c {
		hi, ok1 := hexDigit(s[1+2*i])
		lo, ok2 := hexDigit(s[2+2*i])
		if !ok1 || !ok2 {
			return rgb{}, false
		}
		c[i] = hi<<4 | lo
	}
	return rgb{c[0], c[1], c[2]}, true
}

func hexDigit(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// luminance is the relative luminance of c as WCAG 2.1 defines it.
func (c rgb) luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// mix returns c moved towards other by the fraction w (0 = c, 1 = other).
func (c rgb) mix(other rgb, w float64) rgb {
	m := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-w) + float64(b)*w)) }
	return rgb{m(c.r, other.r), m(c.g, other.g), m(c.b, other.b)}
}

// contrast is the WCAG 2.1 contrast ratio of two colours, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// ContrastRatio returns the WCAG 2.1 contrast ratio, from 1 to 21, of two
// #rrggbb colours; ok is false when either is not such a colour. The ratio is
// not rounded: 4.49 does not pass 4.5.
func ContrastRatio(a, b string) (ratio float64, ok bool) {
	ca, ok1 := parseHexColor(a)
	cb, ok2 := parseHexColor(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return contrast(ca, cb), true
}

var white = rgb{255, 255, 255}

// accessibleColor returns c (lower-case) when it is a #rrggbb colour that
// reaches min contrast against white, and def otherwise.
func accessibleColor(c, def string, minRatio float64) string {
	if ratio, ok := ContrastRatio(c, "#ffffff"); ok && ratio >= minRatio {
		return strings.ToLower(c)
	}
	return def
}

// brandColors returns the colours a page of b uses: its primary colour when
// it reaches minTextContrast against white, its accent colour when it is a
// #rrggbb colour, and the defaults otherwise.
func brandColors(b Brand) (primary, accent string) {
	primary = accessibleColor(b.PrimaryColor, DefaultPrimaryColor, minTextContrast)
	accent = DefaultAccentColor
	if c, ok := parseHexColor(b.AccentColor); ok {
		accent = c.String()
	}
	return primary, accent
}

// brandStyle returns the CSS custom properties of b's colours for the
// layout's style sheet: --brand (buttons, links, header), --brand-dark (hover),
// --brand-tint (light backgrounds) and --accent (the band under the header).
// The colours are checked (#rrggbb, and contrast) before they reach the CSS.
func brandStyle(b Brand) htmltemplate.CSS {
	primary, accent := brandColors(b)
	p, _ := parseHexColor(primary)
	return htmltemplate.CSS(fmt.Sprintf( //nolint:gosec // only checked #rrggbb colours
		":root{--brand:%s;--brand-dark:%s;--brand-tint:%s;--accent:%s}",
		primary, p.mix(rgb{}, 0.25), p.mix(white, 0.92), accent))
}
