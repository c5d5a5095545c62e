package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAccessReportInABrowser opens the access report of the golden case
// (workflows/export writes it; its golden files are the pages the subject
// receives) in a real browser, in both languages, and checks it for width
// and accessibility like every page of the service.
func TestAccessReportInABrowser(t *testing.T) {
	bctx := browser(t)
	srv := httptest.NewServer(http.FileServer(http.Dir("../../workflows/export/testdata/golden")))
	t.Cleanup(srv.Close)
	for _, lang := range []string{"nb", "en"} {
		if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/report.proviso."+lang+".html"), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			t.Fatal(err)
		}
		checkPage(t, bctx, "access-report-"+lang)
		screenshot(t, bctx, "access-report-"+lang)
	}
}
