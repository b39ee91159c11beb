package schedules

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge"
)

func TestExperimentParses(t *testing.T) {
	t.Parallel()
	c, err := ParseFile(filepath.Join("testdata", "good", "experiment.yaml"), strictOpts()...)
	require.NoError(t, err)
	e := c.Experiment
	require.NotNil(t, e)
	require.Equal(t, "firm-late-sms", e.Name)
	require.Equal(t, nudge.MustDate("2026-12-01"), e.Start)
	require.Equal(t, StopRule{MinPerArm: 2000, End: nudge.MustDate("2027-01-31")}, e.Stop)
	require.Equal(t, []string{"kind", "firm"}, e.ArmNames())
	require.Equal(t, "kind", e.Champion())

	firm := c.ForArm("firm")
	require.Nil(t, firm.Experiment)
	require.Equal(t, "late_firm_sms", firm.Steps[0].Template)
	require.Equal(t, ClockTime{Hour: 18}, firm.Steps[0].At)
	require.Equal(t, "late_email", firm.Steps[0].FallbackTemplate, "fields the arm does not set stay the step's")
	require.Equal(t, "late_sms", c.Steps[0].Template, "the cadence itself is not changed")
	require.Equal(t, c.Steps, c.ForArm("kind").Steps)
	require.Same(t, c, c.ForArm(""))

	at := func(s string) time.Time {
		return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, nudge.MustDate(s).DaysSince(nudge.MustDate("2026-12-01")))
	}
	require.False(t, e.Running(at("2026-11-30").Add(23*time.Hour)))
	require.True(t, e.Running(at("2026-12-01")))
	require.True(t, e.Running(at("2027-01-31").Add(23*time.Hour)))
	require.False(t, e.Running(at("2027-02-01")))
}

func TestExperimentAssign(t *testing.T) {
	t.Parallel()
	e := &Experiment{Name: "x", Arms: []Arm{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}}}
	counts := map[string]int{}
	for i := range 20000 {
		id := fmt.Sprintf("acct-%d", i)
		arm := e.Assign("acme", id)
		require.Equal(t, arm, e.Assign("acme", id), "deterministic")
		counts[arm]++
	}
	require.InDelta(t, 15000, counts["a"], 300, "weights 3:1")
	require.InDelta(t, 5000, counts["b"], 300)
	// Another experiment name shuffles the accounts independently.
	other := &Experiment{Name: "y", Arms: e.Arms}
	same := 0
	for i := range 2000 {
		id := fmt.Sprintf("acct-%d", i)
		if e.Assign("acme", id) == other.Assign("acme", id) {
			same++
		}
	}
	require.InDelta(t, 2000*(0.75*0.75+0.25*0.25), same, 100)
}

func TestExperimentProblems(t *testing.T) {
	t.Parallel()
	file := filepath.Join("testdata", "bad", "experiment-mistakes.yaml")
	ps := problemsOf(t, file)
	want := []string{
		file + ":12:9: experiment.name: experiment name \"Firm\" may hold only",
		file + ":14:19: experiment.primary_metric: unknown metric \"promises\"",
		file + ":15:9: experiment.stop: the stop rule needs min_per_arm",
		file + ":18:15: experiment.arms[0].weight: weight 0 must be at least 1",
		file + ":19:13: experiment.arms[1].name: duplicate arm name \"kind\"",
		file + ":22:15: experiment.arms[1].steps[0].id: the cadence has no step \"late-smss\"",
		file + ":25:21: experiment.arms[1].steps[1].template: unknown template \"late_nice_sms\" for channel sms",
		file + ":26:16: experiment.arms[1].steps[1].day: day 45 is outside the cadence's days_past_due range [-5, 30]",
	}
	lines := strings.Split(ps.Error(), "\n")
	require.Len(t, lines, len(want), ps.Error())
	for i, w := range want {
		require.True(t, strings.HasPrefix(lines[i], w), "line %d: %q does not start with %q", i, lines[i], w)
	}
}

func TestExperimentPromote(t *testing.T) {
	t.Parallel()
	c, err := ParseFile(filepath.Join("testdata", "good", "experiment.yaml"), strictOpts()...)
	require.NoError(t, err)
	src, err := c.Promote("firm", strictOpts()...)
	require.NoError(t, err)
	p, err := Parse("promoted.yaml", src, strictOpts()...)
	require.NoError(t, err, string(src))
	require.Nil(t, p.Experiment)
	require.Equal(t, c.ForArm("firm").Steps, p.Steps)
	require.Equal(t, c.AppliesTo, p.AppliesTo)
	require.Contains(t, p.Description, "Arm firm of experiment firm-late-sms promoted.")

	_, err = c.Promote("bold")
	require.ErrorContains(t, err, `has no arm "bold"`)
	_, err = p.Promote("firm")
	require.ErrorContains(t, err, "has no experiment")
}
