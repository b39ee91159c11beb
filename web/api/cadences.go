package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge"
	"github.com/nudgehq/nudge/compliance"
	"github.com/nudgehq/nudge/schedules"
	"github.com/nudgehq/nudge/templates"
	"github.com/nudgehq/nudge/web"
)

func (a *API) listCadences(c *call) error {
	all, err := a.Store.ListCadences(c.ctx, c.lender())
	if err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, pageJSON[cadenceJSON]{Data: mapSlice(all, func(v nudge.CadenceVersion) cadenceJSON { return cadenceView(v, false) })})
	return nil
}

// cadenceVersion loads a version of the lender's cadence; version 0 means
// the active one, or the latest when none is active.
func (a *API) cadenceVersion(c *call, name string, version int) (nudge.CadenceVersion, error) {
	v, err := a.Store.GetCadence(c.ctx, c.lender(), name, version)
	if version != 0 || !errors.Is(err, nudge.ErrNotFound) {
		return v, err
	}
	all, err := a.Store.ListCadences(c.ctx, c.lender())
	if err != nil {
		return nudge.CadenceVersion{}, err
	}
	var latest nudge.CadenceVersion
	for _, cv := range all {
		if cv.Name == name && cv.Version > latest.Version {
			latest = cv
		}
	}
	if latest.Version == 0 {
		return nudge.CadenceVersion{}, fmt.Errorf("cadence %s: %w", name, nudge.ErrNotFound)
	}
	return latest, nil
}

func versionOf(s, field string) (int, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, &apiError{status: http.StatusBadRequest, msg: "invalid version",
			problems: []problemJSON{{Field: field, Message: fmt.Sprintf("%q is not a version number (1, 2, …)", s)}}}
	}
	return v, nil
}

func (a *API) getCadence(c *call) error {
	version, err := versionOf(c.r.URL.Query().Get("version"), "version")
	if err != nil {
		return err
	}
	v, err := a.cadenceVersion(c, c.r.PathValue("name"), version)
	if err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, cadenceView(v, true))
	return nil
}

// readCadence reads a cadence file from the body and parses it.
func (a *API) readCadence(c *call, filename string) ([]byte, *schedules.Cadence, error) {
	src, err := io.ReadAll(c.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, err
		}
		return nil, nil, errorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	cad, err := schedules.Parse(filename, src, a.CadenceOptions...)
	return src, cad, err
}

func (a *API) validateCadence(c *call) error {
	_, cad, err := a.readCadence(c, "cadence.yaml")
	if err != nil {
		ps, ok := cadenceProblems(err)
		if !ok {
			return err
		}
		web.WriteJSON(c.w, http.StatusOK, map[string]any{"valid": false, "problems": ps})
		return nil
	}
	web.WriteJSON(c.w, http.StatusOK, map[string]any{"valid": true, "name": cad.Name, "problems": []problemJSON{}})
	return nil
}

func (a *API) putCadence(c *call) error {
	name := c.r.PathValue("name")
	src, cad, err := a.readCadence(c, name+".yaml")
	if err != nil {
		ps, ok := cadenceProblems(err)
		if !ok {
			return err
		}
		return &apiError{status: http.StatusBadRequest, msg: "the cadence has problems; nothing was stored", problems: ps}
	}
	if cad.Name != name {
		return &apiError{status: http.StatusBadRequest, msg: "the cadence has problems; nothing was stored",
			problems: []problemJSON{{Field: "name", Message: fmt.Sprintf("%q differs from the name in the path, %q", cad.Name, name)}}}
	}
	entry, err := a.auditEntry(c, "cadence.put", "", map[string]any{"bytes": len(src)})
	if err != nil {
		return err
	}
	version, err := a.Store.PutCadenceVersion(c.ctx, c.lender(), name, src, a.now(), false, func(v int) nudge.AuditEntry {
		entry.Target = fmt.Sprintf("%s@%d", name, v)
		return entry
	})
	if err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusCreated, cadenceJSON{Name: name, Version: version, Active: false, CreatedAt: ts(a.now())})
	return nil
}

func (a *API) activateCadence(c *call) error {
	name := c.r.PathValue("name")
	version, err := versionOf(c.r.PathValue("version"), "version")
	if err != nil {
		return err
	}
	v, err := a.Store.GetCadence(c.ctx, c.lender(), name, version)
	if err != nil {
		return err
	}
	if _, err := schedules.Parse(fmt.Sprintf("%s@%d", name, version), v.Source, a.CadenceOptions...); err != nil {
		ps, ok := cadenceProblems(err)
		if !ok {
			return err
		}
		return &apiError{status: http.StatusConflict, msg: "the stored version no longer passes validation (templates or profiles changed)", problems: ps}
	}
	entry, err := a.auditEntry(c, "cadence.activate", fmt.Sprintf("%s@%d", name, version), nil)
	if err != nil {
		return err
	}
	if err := a.Store.ActivateCadenceAudited(c.ctx, c.lender(), name, version, entry); err != nil {
		return err
	}
	web.WriteJSON(c.w, http.StatusOK, cadenceJSON{Name: name, Version: version, Active: true, CreatedAt: ts(v.CreatedAt)})
	return nil
}

type previewRequest struct {
	AccountID string `json:"account_id"`
	Version   int    `json:"version,omitempty"`
	At        string `json:"at,omitempty"`
}

// previewStepJSON is one step of a preview: when it would go and what it says.
type previewStepJSON struct {
	Step          string            `json:"step"`
	BrokenPromise bool              `json:"broken_promise,omitempty"`
	Day           int               `json:"day"`
	Date          string            `json:"date"`
	Preferred     time.Time         `json:"preferred"`
	SendsAt       *time.Time        `json:"sends_at"`
	NotSent       string            `json:"not_sent,omitempty"`
	Channel       nudge.ChannelKind `json:"channel"`
	Template      string            `json:"template"`
	Locale        string            `json:"locale"`
	Subject       string            `json:"subject,omitempty"`
	Text          string            `json:"text,omitempty"`
	Parts         map[string]string `json:"parts,omitempty"`
	Segments      int               `json:"segments,omitempty"`
	Encoding      string            `json:"encoding,omitempty"`
	Length        int               `json:"length,omitempty"`
	// Kind is a task step's work item kind (its instructions are Text).
	Kind string `json:"kind,omitempty"`
}

// previewCadence shows every step of a cadence version for one of the
// lender's accounts: when it would go and the rendered message. Links carry
// a placeholder token; broken-promise steps count from today.
func (a *API) previewCadence(c *call) error {
	var req previewRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	now := a.now()
	if req.At != "" {
		t, err := time.Parse(time.RFC3339, req.At)
		if err != nil {
			return &apiError{status: http.StatusBadRequest, msg: "invalid preview",
				problems: []problemJSON{{Field: "at", Message: fmt.Sprintf("%q is not an RFC 3339 instant", req.At)}}}
		}
		now = t.UTC()
	}
	if req.AccountID == "" {
		return &apiError{status: http.StatusBadRequest, msg: "invalid preview",
			problems: []problemJSON{{Field: "account_id", Message: "is required"}}}
	}
	name := c.r.PathValue("name")
	v, err := a.cadenceVersion(c, name, req.Version)
	if err != nil {
		return err
	}
	acct, err := a.Store.GetAccount(c.ctx, c.lender(), req.AccountID)
	if err != nil {
		return err
	}
	cad, err := schedules.Parse(fmt.Sprintf("%s@%d", name, v.Version), v.Source, a.CadenceOptions...)
	if err != nil {
		return fmt.Errorf("stored cadence %s@%d: %w", name, v.Version, err)
	}
	profile, err := a.registry().Lookup(cad.Profile)
	if err != nil {
		return err
	}
	lender, err := a.Store.GetLender(c.ctx, c.lender())
	if errors.Is(err, nudge.ErrNotFound) {
		lender = nudge.Lender{ID: c.lender(), Name: c.lender()}
	} else if err != nil {
		return err
	}
	if lender.Name == "" {
		lender.Name = lender.ID
	}
	if lender.Language == "" {
		lender.Language = cad.Language
	}
	loc := compliance.PrimaryLocationOf(acct, profile)
	today := nudge.DateOf(now.In(loc))
	reminders := cad.Timeline(schedules.DueInput{Account: acct, Location: loc, Now: now, BrokenPromise: &today, CadenceVersion: v.Version})
	langs := templates.Locales(acct.Borrower.Language, lender.Language)
	base := strings.TrimRight(a.PublicURL, "/")
	steps := make([]previewStepJSON, 0, len(reminders))
	for _, r := range reminders {
		step, _, _ := cad.Step(r.Key.Step)
		day := r.Key.Cycle.AddDays(step.Day)
		if step.Channel == nudge.Task {
			steps = append(steps, taskPreview(profile, acct, step, r, day))
			continue
		}
		d := templates.DataFor(acct, lender.Name, day)
		d.Disclosure = profile.Discloses()
		d.HelpPhone, d.AgentPhone = lender.HelpPhone, lender.AgentPhone
		d.Link, d.UnsubscribeURL = base+"/p/TOKEN", base+"/u/TOKEN"
		out, err := a.Pack.Render(step.Template, step.Channel, langs, d)
		if err != nil {
			return &apiError{status: http.StatusUnprocessableEntity, msg: "a step cannot be rendered for this account",
				problems: []problemJSON{{Field: "steps." + step.ID, Message: err.Error()}}}
		}
		ps := previewStepJSON{Step: step.ID, BrokenPromise: r.BrokenPromise, Day: step.Day, Date: day.String(),
			Preferred: r.DueAt.UTC(), Channel: step.Channel, Template: step.Template, Locale: out.Locale,
			Subject: out.Subject, Text: out.Text, Parts: out.Parts}
		if step.Channel == nudge.SMS {
			ps.Segments, ps.Encoding, ps.Length = out.Segments, string(out.Encoding), out.Length
		}
		if t, err := compliance.NextAllowed(profile, acct, step.Channel, r.DueAt); err == nil {
			ps.SendsAt = ts(t)
		} else {
			ps.NotSent = string(compliance.ReasonOf(err))
		}
		steps = append(steps, ps)
	}
	zones, _ := compliance.CandidateZones(acct, profile)
	web.WriteJSON(c.w, http.StatusOK, map[string]any{
		"cadence": name, "version": v.Version, "profile": cad.Profile, "account_id": acct.ID,
		"zones": zones, "at": now.Format(time.RFC3339), "steps": steps,
	})
	return nil
}

// taskPreview is a task step's preview: its kind and instructions, and when
// the work item would be made (a call list waits for the call window).
func taskPreview(profile *compliance.Profile, acct nudge.Account, step schedules.Step, r nudge.Reminder, day nudge.Date) previewStepJSON {
	ps := previewStepJSON{Step: step.ID, BrokenPromise: r.BrokenPromise, Day: step.Day, Date: day.String(),
		Preferred: r.DueAt.UTC(), Channel: nudge.Task, Kind: step.Kind, Text: step.Instructions}
	if step.Kind != nudge.WorkCallList {
		ps.SendsAt = ts(r.DueAt)
		return ps
	}
	if t, err := compliance.NextAllowed(profile, acct, nudge.Voice, r.DueAt); err == nil {
		ps.SendsAt = ts(t)
	} else {
		ps.NotSent = string(compliance.ReasonOf(err))
	}
	return ps
}
