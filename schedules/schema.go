package schedules

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"

	"github.com/nudgehq/nudge"
)

// cadenceSource and experimentSource are this package's type
// declarations; their doc comments become the schema's descriptions, so the
// binary needs no source tree.
//
//go:embed cadence.go
var cadenceSource []byte

//go:embed experiment.go
var experimentSource []byte

var (
	commentsOnce sync.Once
	comments     map[string]string
	commentsErr  error
)

// docComments returns the doc comments of the exported types and fields in
// cadence.go and experiment.go, keyed "Type" and "Type.Field".
func docComments() (map[string]string, error) {
	commentsOnce.Do(func() {
		comments = map[string]string{}
		fset := token.NewFileSet()
		for name, src := range map[string][]byte{"cadence.go": cadenceSource, "experiment.go": experimentSource} {
			f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
			if err != nil {
				commentsErr = fmt.Errorf("parse embedded %s: %w", name, err)
				return
			}
			addComments(f, comments)
		}
	})
	return comments, commentsErr
}

// addComments adds the doc comments of f's exported types and fields to
// comments, keyed "Type" and "Type.Field".
func addComments(f *ast.File, comments map[string]string) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil {
				doc = gd.Doc
			}
			comments[ts.Name.Name] = cleanComment(doc.Text())
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, fl := range st.Fields.List {
				text := fl.Doc.Text()
				if text == "" {
					text = fl.Comment.Text()
				}
				for _, n := range fl.Names {
					comments[ts.Name.Name+"."+n.Name] = cleanComment(text)
				}
			}
		}
	}
}

// cleanComment joins a comment's lines into one paragraph.
func cleanComment(s string) string { return strings.Join(strings.Fields(s), " ") }

// SchemaID is the $id of the cadence JSON Schema.
const SchemaID = "https://github.com/nudgehq/nudge/schedules/cadence.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of a cadence file, generated
// from the Go types: every object forbids unknown properties, descriptions
// come from the types' doc comments, channels and stop conditions are enums
// and names, templates and times carry their patterns. Editors use it to
// check and complete cadence YAML; the strict parser remains the authority
// (it also checks days against the range, unique ids, known templates and
// profiles).
func Schema() ([]byte, error) {
	docs, err := docComments()
	if err != nil {
		return nil, err
	}
	pkg := reflect.TypeFor[Cadence]().PkgPath()
	r := &jsonschema.Reflector{
		AllowAdditionalProperties: false,
		DoNotReference:            false,
		ExpandedStruct:            true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeFor[nudge.Date]() {
				return &jsonschema.Schema{Type: "string", Format: "date", Description: "A day, YYYY-MM-DD."}
			}
			return nil
		},
		LookupComment: func(t reflect.Type, field string) string {
			if t.PkgPath() != pkg {
				return ""
			}
			if field == "" {
				return docs[t.Name()]
			}
			return docs[t.Name()+"."+field]
		},
	}
	s := r.Reflect(&Cadence{})
	s.ID = SchemaID
	s.Title = "Nudge reminder cadence"
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal cadence schema: %w", err)
	}
	return append(out, '\n'), nil
}
