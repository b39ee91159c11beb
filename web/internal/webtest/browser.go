package webtest

import (
	"context"
	_ "embed" // axe-core, injected into the pages the browser tests check
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// PhoneWidth and PhoneHeight are the viewport of the page checks: a
// 390 px wide phone (iPhone 12 to 15).
const PhoneWidth, PhoneHeight = 390, 844

//go:embed testdata/axe.min.js
var axeSource string

// Browser returns a headless Chromium context with a fresh profile and a
// width × height window. It skips the test when Chromium is absent, unless
// NUDGE_TEST_REQUIRE_BROWSER is set (as in CI), when a missing browser
// fails it.
func Browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			if os.Getenv("NUDGE_TEST_REQUIRE_BROWSER") != "" {
				t.Fatalf("NUDGE_TEST_REQUIRE_BROWSER is set but Chromium is not installed (looked for %s and chromium on PATH)", path)
			}
			t.Skipf("Chromium is not installed (looked for %s and chromium on PATH); set NUDGE_TEST_REQUIRE_BROWSER=1 to make this a failure", path)
		}
		path = p
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry the timeout.
	require.NoError(t, chromedp.Do(ctx))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Phone makes the browser's viewport a 390 px wide phone.
func Phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
}

// Artifacts is where screenshots go: $NUDGE_TEST_ARTIFACTS or a temp dir.
func Artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NUDGE_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// AxeViolation is one rule axe-core found broken on a page.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
}

// CheckPage checks the page the browser shows, named name in messages: it
// is no wider than the viewport (nothing scrolls sideways) and axe-core
// finds no serious or critical violation. It saves a full-page screenshot
// to Artifacts.
func CheckPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	// Mobile emulation widens the layout viewport to fit content that
	// overflows, so the page is measured against the phone's width itself.
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	if width > PhoneWidth {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll('body *')]
			.filter(e => e.getBoundingClientRect().right > %d.5 && !(e.parentElement && e.parentElement.closest('.scroll')))
			.slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : ''))`, PhoneWidth)))
		t.Errorf("%s: the page is %d px wide, wider than a %d px phone (wider elements: %v)", name, width, PhoneWidth, wide)
	}
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource))
	require.NoError(t, err, "%s: load axe-core", name)
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](`axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
			id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err, "%s: run axe-core", name)
	for _, v := range violations {
		t.Errorf("%s: %s", name, v)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	shot := filepath.Join(Artifacts(t), strings.NewReplacer("/", "_", " ", "_").Replace(name)+".png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
}
