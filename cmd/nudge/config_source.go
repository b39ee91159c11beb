package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/nudgehq/nudge/channels/smtp"
)

// configSource is the parsed configuration file, kept to name the line of a
// setting a later check refuses.
type configSource struct {
	path string
	file *ast.File
}

// parseSource parses data (already decoded without error) for line
// lookups; nil when it does not parse.
func parseSource(path string, data []byte) *configSource {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil
	}
	return &configSource{path: path, file: f}
}

// line returns the line of the setting at field ("lenders[1].dkim[0].domain"),
// or of its closest enclosing setting that is in the file (a missing key's
// list item); 0 when none is. Only settings inside a list are looked up:
// they come from the file alone, while any other setting may come from the
// environment.
func (s *configSource) line(field string) int {
	if s == nil || !strings.Contains(field, "[") {
		return 0
	}
	for p := field; p != ""; p = parentSetting(p) {
		path, err := yaml.PathString("$." + p)
		if err != nil {
			continue
		}
		node, err := path.FilterFile(s.file)
		if err != nil || node == nil || node.GetToken() == nil {
			continue
		}
		return node.GetToken().Position.Line
	}
	return 0
}

// parentSetting returns the setting that holds field: "a.b[2].c" gives
// "a.b[2]", which gives "a.b", which gives "a", which gives "".
func parentSetting(field string) string {
	if strings.HasSuffix(field, "]") {
		if i := strings.LastIndex(field, "["); i >= 0 {
			return field[:i]
		}
	}
	if i := strings.LastIndex(field, "."); i >= 0 {
		return field[:i]
	}
	return ""
}

// settingError is a problem with one setting, named by its path.
type settingError struct {
	field string
	err   error
}

func (e *settingError) Error() string { return e.field + ": " + e.err.Error() }
func (e *settingError) Unwrap() error { return e.err }

// locate prefixes every problem in err that names a setting read from the
// file with "file:line: ", through joined errors; other errors are kept as
// they are.
func (s *configSource) locate(err error) error {
	if err == nil || s == nil {
		return err
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, s.locate(e))
		}
		return errors.Join(out...)
	}
	field := ""
	var fe *smtp.FieldError
	var se *settingError
	switch {
	case errors.As(err, &fe):
		field = fe.Field
	case errors.As(err, &se):
		field = se.field
	}
	if n := s.line(field); n > 0 {
		return fmt.Errorf("%s:%d: %w", s.path, n, err)
	}
	return err
}
