// Package templates holds the embedded message catalogs and e-mail templates
// of the service in Norwegian bokmål (nb) and English (en), and the functions
// that render them.
//
// Message catalogs live in messages/<lang>.json: flat maps from a message key
// (such as "error.not_found" or "status.in_progress") to a text with {name}
// placeholders. T looks a key up and fills the placeholders in; Keys lists the
// keys of a language; MatchLanguage picks a language from an Accept-Language
// header.
//
// E-mail templates live in mail/<name>/<lang>/ as subject.txt, body.txt
// (text/template) and body.html (html/template, so that everything taken from
// users is escaped), with a shared HTML layout in mail/layout.html.
// RenderMail renders all three parts of one mail. Inside the templates these
// functions are available, bound to the language of the template:
//
//	t KEY [NAME VALUE]...   the catalog message KEY with placeholders filled in
//	label PREFIX VALUE      the catalog message PREFIX.VALUE ({{label "type" .Type}})
//	date YYYY-MM-DD         the date written out ("3 April 2025", "3. april 2025")
//	days N                  "N days" with the right plural ("1 dag", "2 dager")
//	abs N                   the absolute value of N
//
// The catalog functions used inside templates fail the rendering when a key is
// missing in the template's language, so the golden-file tests catch a missing
// text before a mail with a raw key in it is ever sent.
package templates
