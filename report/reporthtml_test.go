package report

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// urlAttrs are the attributes that load or link to a URL.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true,
	"data": true, "background": true, "cite": true, "longdesc": true, "manifest": true, "ping": true,
	"icon": true, "codebase": true, "archive": true, "xlink:href": true, "lowsrc": true, "dynsrc": true,
}

// forbiddenElems may run code or load something.
var forbiddenElems = map[atom.Atom]bool{
	atom.Script: true, atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Link: true,
	atom.Img: true, atom.Base: true, atom.Form: true, atom.Frame: true, atom.Audio: true,
	atom.Video: true, atom.Source: true, atom.Applet: true, atom.Image: true,
}

// checkSafeHTML parses a report and fails on anything that could run or
// load: scripts and the like, event handler attributes, URLs other than
// fragments of the page, url() in styles, a meta refresh. It returns
// the text of the document.
func checkSafeHTML(t *testing.T, doc string) string {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	csp := 0
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
		case html.ElementNode:
			if forbiddenElems[n.DataAtom] || n.Data == "script" || n.Data == "foreignObject" || n.Data == "use" {
				t.Errorf("forbidden element <%s>", n.Data)
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = a.Namespace + ":" + key
				}
				val := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(key, "on"):
					t.Errorf("event handler %s=%q on <%s>", a.Key, a.Val, n.Data)
				case urlAttrs[key] && !strings.HasPrefix(val, "#"):
					t.Errorf("URL attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
				case strings.Contains(val, "http:") || strings.Contains(val, "https:") || strings.Contains(val, "javascript:") ||
					strings.Contains(val, "url(") || strings.HasPrefix(val, "//") || strings.HasPrefix(val, "data:"):
					t.Errorf("attribute %s=%q on <%s> names a URL", a.Key, a.Val, n.Data)
				}
			}
			if n.DataAtom == atom.Meta {
				var equiv, content string
				for _, a := range n.Attr {
					switch strings.ToLower(a.Key) {
					case "http-equiv":
						equiv = strings.ToLower(a.Val)
					case "content":
						content = a.Val
					}
				}
				switch equiv {
				case "content-security-policy":
					csp++
					if content != ReportCSP {
						t.Errorf("CSP %q, want %q", content, ReportCSP)
					}
				case "":
				default:
					t.Errorf("meta http-equiv=%q", equiv)
				}
			}
			if n.DataAtom == atom.Style {
				css := strings.ToLower(n.FirstChild.Data)
				if strings.Contains(css, "url(") || strings.Contains(css, "@import") {
					t.Error("the style sheet loads something")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if csp != 1 {
		t.Errorf("%d Content-Security-Policy meta tags, want 1", csp)
	}
	return text.String()
}

func TestHTMLReportIsSafe(t *testing.T) {
	rep, s, v := realReport(t)
	doc := renderReport(t, ReportHTML, rep, s, v, Options{Redact: true, UTC: true})
	if strings.Contains(strings.ToLower(doc), "<script") || strings.Contains(doc, "<img") || strings.Contains(doc, "<b>") {
		t.Error("raw markup from the data in the HTML report")
	}
	text := checkSafeHTML(t, doc)
	// The hostile strings are there, as text.
	for _, want := range []string{nastyNote1, "=cmd|' /C calc'!A0", "second line with ``` and `code`", rep.Title,
		rep.Detections[0].Name, rep.Detections[0].Reference, rep.Detections[0].Alerts[0]} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(doc, secretB64) || !strings.Contains(text, Marker) {
		t.Error("the marked Secret's value is not redacted in the HTML report")
	}
	if !strings.Contains(doc, "<svg") || strings.Count(doc, "<rect") < 4 || !strings.Contains(doc, "@media print") {
		t.Error("no SVG timeline or print rules")
	}
	if strings.Contains(doc, "xmlns") {
		t.Error("the SVG names a namespace URL")
	}
	// Without redaction the value is shown (the user asked for it).
	doc = renderReport(t, ReportHTML, rep, s, v, Options{Redact: false, UTC: true})
	if !strings.Contains(doc, secretB64) {
		t.Error("Redact false still masked the value")
	}
}

func TestHTMLReportWithoutOptionalSections(t *testing.T) {
	rep, s, v := realReport(t)
	rep.Timeline, rep.Pivots, rep.Marks, rep.Detections, rep.DetectionsRun, rep.Sources = nil, nil, nil, nil, false, nil
	rep.Events = nil
	doc := renderReport(t, ReportHTML, rep, s, v, Options{UTC: true})
	text := checkSafeHTML(t, doc)
	for _, want := range []string{"No event was marked.", "Detection rules were not run", "No source files."} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// findChromium returns the Chromium binary, or skips the test when there
// is none (fails under CI, which installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not on PATH; CI must install Debian's chromium (apt-get install -y chromium)")
	}
	t.Skip("chromium (or chromium-browser) is not on PATH: install Debian's chromium to run this test")
	return ""
}

// runChromium runs headless Chromium on a page with extra arguments and
// fails on a CSP violation or a console message in its log.
func runChromium(t *testing.T, bin, page string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--hide-scrollbars", "--user-data-dir=" + filepath.Join(t.TempDir(), "profile"),
		"--enable-logging=stderr", "--v=0"}
	args = append(append(args, extra...), (&url.URL{Scheme: "file", Path: page}).String())
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		for _, bad := range []string{"Refused to", "Content Security Policy", ":CONSOLE", "Uncaught"} {
			if strings.Contains(line, bad) {
				t.Errorf("chromium %v logged: %s", extra, line)
			}
		}
	}
}

func TestHTMLReportRendersInChromium(t *testing.T) {
	bin := findChromium(t)
	rep, s, v := realReport(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := SaveReport(page, ReportHTML, rep, s, v, Options{Redact: true, UTC: true}, false); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	runChromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Fatalf("screenshot is %v, want 1280x2000", b)
	}
	ink, colour := 0, 0
	for y := 0; y < 2000; y += 2 {
		for x := 0; x < 1280; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || b < 0xf000 {
				ink++
			}
			// The timeline's green bars.
			if g > r+0x2000 && g > b+0x2000 {
				colour++
			}
		}
	}
	if ink < 2000 {
		t.Errorf("the screenshot is (nearly) blank: %d non-white samples", ink)
	}
	if colour < 100 {
		t.Errorf("the timeline bars are not drawn: %d green samples", colour)
	}
	pdf := filepath.Join(dir, "report.pdf")
	runChromium(t, bin, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
	data, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || len(data) < 10000 {
		t.Fatalf("print to PDF: %v, %d bytes", err, len(data))
	}
	t.Logf("screenshot %s, PDF %d bytes", shot, len(data))
}
