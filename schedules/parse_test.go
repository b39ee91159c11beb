package schedules

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

// problemsOf parses file with the strict options and returns its problems.
func problemsOf(t *testing.T, file string, opts ...Option) Problems {
	t.Helper()
	if opts == nil {
		opts = strictOpts()
	}
	c, err := ParseFile(file, opts...)
	require.Error(t, err, "%s should not parse", file)
	require.Nil(t, c)
	var ps Problems
	require.True(t, errors.As(err, &ps), "want Problems, got %T: %v", err, err)
	return ps
}

func TestParseFiveMistakes(t *testing.T) {
	t.Parallel()
	file := filepath.Join("testdata", "bad", "five-mistakes.yaml")
	ps := problemsOf(t, file)
	lines := strings.Split(ps.Error(), "\n")
	require.Len(t, lines, 5, ps.Error())
	want := []struct {
		prefix string
		field  string
		text   string
	}{
		{file + ":9:9: ", "steps[0].at", `"25:00" is not a time of day`},
		{file + ":15:14: ", "steps[1].channel", `unknown channel "fax"`},
		{file + ":18:10: ", "steps[2].day", "day 45 is outside the cadence's days_past_due range [-5, 30]"},
		{file + ":27:5: ", "steps[3].colour", `unknown key "colour"`},
		{file + ":28:28: ", "stop_when[2]", `unknown stop condition "vacation"`},
	}
	for i, w := range want {
		require.True(t, strings.HasPrefix(lines[i], w.prefix), "line %d: %q does not start with %q", i, lines[i], w.prefix)
		require.Equal(t, w.field, ps[i].Field)
		require.Contains(t, lines[i], w.text)
	}
}

func TestParseBadFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		line  int
		col   int
		field string
		text  string
	}{
		{"unknown-key-top", 3, 1, "owner", `unknown key "owner" at the top level`},
		{"unknown-key-step", 15, 5, "steps[1].tempate", `did you mean "template"?`},
		{"unknown-key-nested", 4, 37, "applies_to.days_past_due.step", `unknown key "step" in applies_to.days_past_due`},
		{"duplicate-step-id", 11, 9, "steps[1].id", `duplicate step id "predue-sms"`},
		{"duplicate-key", 13, 5, "steps[1].day", `duplicate key "day"`},
		{"unknown-channel", 14, 14, "steps[1].channel", `unknown channel "whatsapp" (want sms, voice, email or task)`},
		{"unknown-template", 15, 15, "steps[1].template", `unknown template "late_voicemail" for channel voice`},
		{"template-wrong-channel", 10, 15, "steps[0].template", `unknown template "due_email" for channel sms`},
		{"bad-time-hour", 13, 9, "steps[1].at", `"25:00" is not a time of day like 09:30`},
		{"bad-time-am", 13, 9, "steps[1].at", `"9am" is not a time of day like 09:30`},
		{"bad-time-number", 13, 9, "steps[1].at", "got the number 930"},
		{"day-out-of-range", 12, 10, "steps[1].day", "day 31 is outside the cadence's days_past_due range [-5, 30]"},
		{"missing-template", 11, 5, "steps[1].template", `missing required field "template"`},
		{"missing-applies-to", 1, 1, "applies_to", `missing required field "applies_to"`},
		{"bad-type-day", 12, 10, "steps[1].day", `want a whole number, got the string "five"`},
		{"bad-type-portfolios", 4, 15, "applies_to.portfolios", "want a list, got a string"},
		{"fallback-same-channel", 16, 15, "steps[1].fallback", `fallback "voice" is the step's own channel`},
		{"fallback-template-missing", 11, 15, "steps[0].fallback", `template "predue_sms" has no email version`},
		{"unknown-profile", 2, 10, "profile", `unknown compliance profile "eu"`},
		{"unknown-stop-condition", 16, 19, "stop_when[1]", `unknown stop condition "vacation"`},
		{"empty-stop-when", 16, 12, "stop_when", "stop_when lists no condition"},
		{"broken-promise-day-zero", 17, 23, "broken_promise[0].day", "starts at 1"},
		{"bad-name", 1, 7, "name", `cadence name "Minimal_Cadence" may hold only`},
		{"bad-language", 3, 11, "language", `"english!" is not a BCP 47 language tag`},
		{"range-reversed", 4, 33, "applies_to.days_past_due.max", "max (-5) is before min (30)"},
		{"syntax-error", 12, 5, "", "YAML syntax error"},
		{"two-documents", 17, 1, "", "exactly one YAML document"},
		{"empty", 1, 1, "", "the file is empty"},
		{"task-bad-kind", 15, 11, "steps[1].kind", `work item kind "Field-Visit" must be lowercase letters`},
		{"task-missing-instructions", 11, 5, "steps[1].instructions", `missing required field "instructions"`},
		{"task-with-template", 17, 15, "steps[1].template", "a task step creates a work item and sends nothing: remove template"},
		{"kind-on-sms-step", 11, 11, "steps[0].kind", "kind is set but the step is not a task step (channel: task)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join("testdata", "bad", tt.name+".yaml")
			ps := problemsOf(t, file)
			require.Len(t, ps, 1, ps.Error())
			p := ps[0]
			require.Equal(t, file, p.File)
			require.Equal(t, tt.line, p.Line, p.String())
			require.Equal(t, tt.col, p.Column, p.String())
			require.Equal(t, tt.field, p.Field)
			require.Contains(t, p.Message, tt.text)
		})
	}
}

func TestParseBadFixturesAllCovered(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 34, "every bad fixture must have a row in TestParseBadFixtures or its own test")
}

func TestParseGoodFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	require.NoError(t, err)
	examples, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(examples), 2)
	for _, file := range append(files, examples...) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			c, err := ParseFile(file, strictOpts()...)
			require.NoError(t, err)
			require.NotEmpty(t, c.Steps)
			require.NoError(t, Validate(c, strictOpts()...))
		})
	}
}

func TestParseDecodesEveryField(t *testing.T) {
	t.Parallel()
	c, err := ParseFile(filepath.Join("testdata", "good", "anchors.yaml"), strictOpts()...)
	require.NoError(t, err)
	want := &Cadence{
		Name:     "anchors",
		Profile:  "cn",
		Language: "zh-CN",
		AppliesTo: AppliesTo{
			Portfolios:  []string{"auto", "lease"},
			DaysPastDue: DayRange{Min: -3, Max: 15},
		},
		Steps: []Step{
			{ID: "predue-sms", Day: -3, At: ClockTime{9, 30}, Channel: nudge.SMS, Template: "predue_sms"},
			{ID: "late-sms", Day: 1, At: ClockTime{9, 30}, Channel: nudge.SMS, Template: "late_sms"},
		},
		StopWhen: []StopCondition{StopPaid, StopHold},
		BrokenPromise: []Step{
			{ID: "bp-sms", Day: 2, At: ClockTime{9, 30}, Channel: nudge.SMS, Template: "broken_promise_sms"},
		},
	}
	require.Equal(t, want, c)

	us, err := ParseFile(filepath.Join("..", "examples", "us-auto.yaml"), strictOpts()...)
	require.NoError(t, err)
	require.Equal(t, "us-auto-standard", us.Name)
	require.Contains(t, us.Description, "Standard reminders for US auto loans")
	late, bp, ok := us.Step("late-sms")
	require.True(t, ok)
	require.False(t, bp)
	require.Equal(t, "late_sms", late.TemplateFor(nudge.SMS))
	require.Equal(t, "late_email", late.TemplateFor(nudge.Email))
	require.Empty(t, late.TemplateFor(nudge.Voice))
	_, bp, ok = us.Step("bp-sms")
	require.True(t, ok)
	require.True(t, bp)
	_, _, ok = us.Step("nope")
	require.False(t, ok)
}

// TestParseRoundTrip marshals a cadence with the yaml and json tags and
// parses it back, so the tags and the keys the parser accepts stay the same.
func TestParseRoundTrip(t *testing.T) {
	t.Parallel()
	c := &Cadence{
		Name:        "round-trip",
		Description: "Every field set.",
		Profile:     "us",
		AppliesTo:   AppliesTo{Portfolios: []string{"auto"}, DaysPastDue: DayRange{Min: -5, Max: 60}},
		Language:    "es",
		Steps: []Step{
			{ID: "late-sms", Day: 1, At: ClockTime{23, 30}, Channel: nudge.SMS, Template: "late_sms", Fallback: nudge.Email, FallbackTemplate: "late_email"},
		},
		StopWhen:      []StopCondition{StopPaid, StopOptOut},
		BrokenPromise: []Step{{ID: "bp-sms", Day: 1, At: ClockTime{10, 0}, Channel: nudge.SMS, Template: "broken_promise_sms"}},
	}
	y, err := yaml.Marshal(c)
	require.NoError(t, err)
	got, err := Parse("round-trip.yaml", y, strictOpts()...)
	require.NoError(t, err, string(y))
	require.Equal(t, c, got)

	j, err := json.Marshal(c)
	require.NoError(t, err)
	var fromJSON Cadence
	require.NoError(t, json.Unmarshal(j, &fromJSON))
	require.Equal(t, c, &fromJSON)
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "good", "lender-profile.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		opts    []Option
		problem string
	}{
		{"default profiles reject a lender profile", nil, `unknown compliance profile "acme-strict"`},
		{"profile names", []Option{WithProfileNames("acme-strict")}, ""},
		{"profile func", []Option{WithProfiles(func(n string) bool { return strings.HasPrefix(n, "acme-") })}, ""},
		{"templates unchecked without a pack", []Option{WithProfileNames("acme-strict")}, ""},
		{"templates checked with a pack", []Option{WithProfileNames("acme-strict"), WithTemplates(fakePack{nudge.Email: {"due_email"}})}, `unknown template "due_sms" for channel sms`},
		{"fallback template checked", []Option{WithProfileNames("acme-strict"), WithTemplates(TemplatesFunc(func(n string, ch nudge.ChannelKind) bool { return ch != nudge.Email }))}, `unknown template "due_email" for channel email`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("lender-profile.yaml", data, tt.opts...)
			if tt.problem == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.problem)
		})
	}
}

func TestParseReportsAllMistakes(t *testing.T) {
	t.Parallel()
	src := `name: x
profile: us
applies_to: {days_past_due: {min: 0, max: 10}}
steps:
  - {id: a, day: 1, at: "10:00", channel: sms, template: late_sms}
  - 5
  - {id: b, day: 2, at: "10:00", channel: sms, template: late_sms, fallback: telegram}
  - {id: a, day: 3, at: "10:00", channel: sms, template: late_sms, fallback_template: late_email}
broken_promise: {id: bp}
`
	_, err := Parse("all.yaml", []byte(src), strictOpts()...)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.String()
	}
	require.Equal(t, []string{
		"all.yaml:6:5: steps[1]: want a mapping, got a number",
		`all.yaml:7:78: steps[2].fallback: unknown fallback channel "telegram" (want sms, voice or email)`,
		`all.yaml:8:10: steps[3].id: duplicate step id "a" (first used at steps[0])`,
		"all.yaml:8:87: steps[3].fallback_template: fallback_template is set but the step has no fallback channel",
		"all.yaml:9:17: broken_promise: want a list, got a mapping",
	}, got)
}

func TestValidateFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join("testdata", "good", "minimal.yaml")
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	copyPath := filepath.Join(dir, "copy.yaml")
	require.NoError(t, os.WriteFile(copyPath, data, 0o600))
	missing := filepath.Join(dir, "missing.yaml")
	five := filepath.Join("testdata", "bad", "five-mistakes.yaml")

	require.Empty(t, ValidateFiles([]string{good}, strictOpts()...))

	ps := ValidateFiles([]string{good, five, missing, copyPath}, strictOpts()...)
	require.Len(t, ps, 7)
	for _, p := range ps[:5] {
		require.Equal(t, five, p.File)
	}
	require.Equal(t, missing, ps[5].File)
	require.Zero(t, ps[5].Line)
	require.Contains(t, ps[5].String(), missing+": cannot read file")
	require.Equal(t, copyPath+":1:7: name: cadence \"minimal\" is already defined in "+good, ps[6].String())
}

func TestValidateGoCadence(t *testing.T) {
	t.Parallel()
	c := &Cadence{
		Name:      "go-built",
		Profile:   "us",
		AppliesTo: AppliesTo{DaysPastDue: DayRange{Min: 0, Max: 5}},
		Steps:     []Step{{ID: "s", Day: 9, Channel: nudge.Voice, Template: "late_voice"}},
	}
	err := Validate(c, strictOpts()...)
	require.EqualError(t, err, "steps[0].day: day 9 is outside the cadence's days_past_due range [0, 5]")
	c.Steps[0].Day = 5
	require.NoError(t, Validate(c, strictOpts()...))
	require.Error(t, Validate(nil))
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"full", Problem{File: "a.yaml", Line: 3, Column: 7, Field: "steps[0].at", Message: "bad"}, "a.yaml:3:7: steps[0].at: bad"},
		{"no field", Problem{File: "a.yaml", Line: 1, Column: 1, Message: "bad"}, "a.yaml:1:1: bad"},
		{"no line", Problem{File: "a.yaml", Message: "cannot read"}, "a.yaml: cannot read"},
		{"no file", Problem{Field: "name", Message: "bad"}, "name: bad"},
		{"line only", Problem{Line: 2, Column: 4, Message: "bad"}, "2:4: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.p.String())
		})
	}
	require.Equal(t, "a\nb", Problems{{Message: "a"}, {Message: "b"}}.Error())
}

func TestParseClockTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ClockTime
		ok   bool
	}{
		{"00:00", ClockTime{0, 0}, true},
		{"09:30", ClockTime{9, 30}, true},
		{"23:59", ClockTime{23, 59}, true},
		{"24:00", ClockTime{}, false},
		{"25:00", ClockTime{}, false},
		{"9:30", ClockTime{}, false},
		{"9am", ClockTime{}, false},
		{"12:60", ClockTime{}, false},
		{"", ClockTime{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseClockTime(tt.in)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.in, got.String())
		})
	}
}

// TestDocsExampleParses keeps the example in docs/cadences.md valid.
func TestDocsExampleParses(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "cadences.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	require.True(t, ok, "docs/cadences.md has no yaml block")
	src, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	c, err := Parse("docs/cadences.md", []byte(src), strictOpts()...)
	require.NoError(t, err)
	require.Len(t, c.Steps, 8)
	require.Len(t, c.BrokenPromise, 2)
	require.Equal(t, "late_email", c.BrokenPromise[0].FallbackTemplate)
}

// FuzzParse checks that no input makes the parser panic and that every
// problem it reports is placed in the file.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		require.NoError(f, err)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Add([]byte("a: &x {b: *x}\nsteps: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, strictOpts()...)
		if err == nil {
			require.NotNil(t, c)
			return
		}
		var ps Problems
		require.ErrorAs(t, err, &ps)
		require.NotEmpty(t, ps)
		for _, p := range ps {
			require.Equal(t, "f.yaml", p.File)
			require.NotEmpty(t, p.Message)
		}
	})
}
