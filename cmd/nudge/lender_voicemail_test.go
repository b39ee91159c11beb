package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/examples"
	"github.com/nudgehq/nudge/templates"
)

// smsOnlyCadence places no call.
const smsOnlyCadence = `name: sms-only
profile: us
applies_to:
  days_past_due: {min: 0, max: 30}
steps:
  - {id: late-sms, day: 1, at: "10:00", channel: sms, template: late_sms}
`

// fallbackCallCadence calls only when a text cannot be sent.
const fallbackCallCadence = `name: sms-then-call
profile: us
applies_to:
  days_past_due: {min: 0, max: 30}
steps:
  - {id: late-sms, day: 1, at: "10:00", channel: sms, template: late_sms, fallback: voice, fallback_template: late_voice}
`

func TestValidateLenderVoicemails(t *testing.T) {
	t.Parallel()
	us, err := examples.FS.ReadFile("us-auto.yaml")
	require.NoError(t, err)
	calls := []cadenceSource{{name: "us-auto.yaml", data: us}}
	good := LenderConfig{ID: "acme", Name: "Acme Auto Finance", HelpPhone: "+18005550100", AgentPhone: "+18005550101",
		VoicemailBusinessName: "Acme Auto", VoicemailCallerName: "Sam Rivera"}
	tests := []struct {
		name    string
		lender  func(l *LenderConfig)
		sources []cadenceSource
		wantErr []string // every message expected, each naming its field
	}{
		{name: "complete", sources: calls},
		{name: "the lender's own name serves when it says nothing of debts", sources: calls,
			lender: func(l *LenderConfig) { l.VoicemailBusinessName = "" }},
		{name: "the help line alone gives the number", sources: calls, lender: func(l *LenderConfig) { l.AgentPhone = "" }},
		{name: "a business name that names a debt collector", sources: calls,
			lender:  func(l *LenderConfig) { l.VoicemailBusinessName = "Acme Collections" },
			wantErr: []string{`lenders[0].voicemail_business_name: "Acme Collections" names a debt collector ("Collections")`}},
		{name: "a Spanish or Chinese collector's name", sources: calls,
			lender:  func(l *LenderConfig) { l.VoicemailBusinessName = "华夏催收" },
			wantErr: []string{`lenders[0].voicemail_business_name: "华夏催收" names a debt collector ("催收")`}},
		{name: "a set name is checked even without calls", sources: []cadenceSource{{name: "sms.yaml", data: []byte(smsOnlyCadence)}},
			lender:  func(l *LenderConfig) { l.VoicemailBusinessName = "Acme Debt Services" },
			wantErr: []string{`lenders[0].voicemail_business_name: "Acme Debt Services" names a debt collector ("Debt")`}},
		{name: "a lender named as a collector that calls needs a business name", sources: calls,
			lender:  func(l *LenderConfig) { l.Name, l.VoicemailBusinessName = "Acme Recovery Group", "" },
			wantErr: []string{`lenders[0].voicemail_business_name: required: the lender's cadences place calls and lenders[0].name "Acme Recovery Group" names a debt collector ("Recovery")`}},
		{name: "no person to call back", sources: calls, lender: func(l *LenderConfig) { l.VoicemailCallerName = "" },
			wantErr: []string{"lenders[0].voicemail_caller_name: required: the lender's cadences place calls"}},
		{name: "a call on fallback needs a person too", sources: []cadenceSource{{name: "fallback.yaml", data: []byte(fallbackCallCadence)}},
			lender:  func(l *LenderConfig) { l.VoicemailCallerName = "" },
			wantErr: []string{"lenders[0].voicemail_caller_name: required"}},
		{name: "no calls, no person needed", sources: []cadenceSource{{name: "sms.yaml", data: []byte(smsOnlyCadence)}},
			lender: func(l *LenderConfig) { l.VoicemailCallerName, l.HelpPhone, l.AgentPhone = "", "", "" }},
		{name: "a caller that is not a person", sources: calls, lender: func(l *LenderConfig) { l.VoicemailCallerName = "Agent 42" },
			wantErr: []string{`lenders[0].voicemail_caller_name: "Agent 42" is not a person's name: it has digits`}},
		{name: "a caller from the collections desk", sources: calls, lender: func(l *LenderConfig) { l.VoicemailCallerName = "Collections Desk" },
			wantErr: []string{`lenders[0].voicemail_caller_name: "Collections Desk" names a debt collector`}},
		{name: "a name too long to say", sources: calls, lender: func(l *LenderConfig) { l.VoicemailBusinessName = strings.Repeat("a", 65) },
			wantErr: []string{"lenders[0].voicemail_business_name: ", "is longer than 64 characters"}},
		{name: "no number to call back", sources: calls, lender: func(l *LenderConfig) { l.HelpPhone, l.AgentPhone = "", "" },
			wantErr: []string{"lenders[0].help_phone: required (or agent_phone)"}},
		{name: "a number that cannot be said", sources: calls, lender: func(l *LenderConfig) { l.AgentPhone = "800-555-0101" },
			wantErr: []string{`lenders[0].agent_phone: "800-555-0101" is not an E.164 number`}},
		{name: "every problem at once", sources: calls,
			lender: func(l *LenderConfig) {
				l.Name, l.VoicemailBusinessName, l.VoicemailCallerName, l.HelpPhone, l.AgentPhone = "Acme Collections", "", "", "", ""
			},
			wantErr: []string{"lenders[0].voicemail_business_name: required", "lenders[0].voicemail_caller_name: required", "lenders[0].help_phone: required"}},
	}
	opts := parseOptions(templates.Default(), compliance.NewRegistry())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := good
			if tt.lender != nil {
				tt.lender(&l)
			}
			err := validateLenderVoicemails([]LenderConfig{l}, map[string][]cadenceSource{l.ID: tt.sources}, opts)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestValidateLenderVoicemailsReadsCadenceFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sms := filepath.Join(dir, "sms.yaml")
	require.NoError(t, os.WriteFile(sms, []byte(smsOnlyCadence), 0o600))
	call := filepath.Join(dir, "call.yaml")
	require.NoError(t, os.WriteFile(call, []byte(fallbackCallCadence), 0o600))
	opts := parseOptions(templates.Default(), compliance.NewRegistry())
	lenders := []LenderConfig{
		{ID: "texts", Name: "Texts Only Collections", Cadences: []string{sms}},
		{ID: "calls", Name: "Calls Auto", HelpPhone: "+18005550100", Cadences: []string{sms, call}},
	}
	err := validateLenderVoicemails(lenders, nil, opts)
	require.Error(t, err)
	require.Contains(t, err.Error(), "lenders[1].voicemail_caller_name: required")
	require.NotContains(t, err.Error(), "lenders[0]", "a lender that places no call needs no voicemail settings")

	lenders[1].VoicemailCallerName = "Sam Rivera"
	require.NoError(t, validateLenderVoicemails(lenders, nil, opts))

	lenders[0].Cadences = []string{filepath.Join(dir, "missing.yaml")}
	err = validateLenderVoicemails(lenders, nil, opts)
	require.ErrorContains(t, err, "lenders[0].cadences: ")
}

func TestLoadConfigReadsVoicemailSettings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nudge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`lenders:
  - id: acme
    name: Acme Auto Finance
    help_phone: "+18005550100"
    voicemail_business_name: Acme Auto
    voicemail_caller_name: Sam Rivera
`), 0o600))
	cfg, err := LoadConfig(path, func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	require.Len(t, cfg.Lenders, 1)
	require.Equal(t, "Acme Auto", cfg.Lenders[0].VoicemailBusinessName)
	require.Equal(t, "Sam Rivera", cfg.Lenders[0].VoicemailCallerName)
}
