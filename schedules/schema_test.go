package schedules

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := Schema()
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s), "schema is not valid JSON")
	return s
}

func TestSchemaShape(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	require.Equal(t, "https://json-schema.org/draft/2020-12/schema", s["$schema"])
	require.Equal(t, SchemaID, s["$id"])
	require.Equal(t, false, s["additionalProperties"])
	require.ElementsMatch(t, []any{"name", "profile", "applies_to", "steps"}, s["required"])
	require.Contains(t, s["description"], "Cadence is one reminder plan")

	defs := s["$defs"].(map[string]any)
	step := defs["Step"].(map[string]any)
	props := step["properties"].(map[string]any)
	for _, k := range []string{"id", "day", "at", "channel", "template", "fallback", "fallback_template", "kind", "instructions"} {
		require.Contains(t, props, k)
		require.NotEmpty(t, props[k].(map[string]any)["description"], "property %s has no description", k)
	}
	require.Equal(t, false, step["additionalProperties"])
	require.Equal(t, []any{"sms", "voice", "email", "task"}, props["channel"].(map[string]any)["enum"])
	require.Equal(t, NamePattern, props["id"].(map[string]any)["pattern"])
	require.Equal(t, ClockPattern, defs["ClockTime"].(map[string]any)["pattern"])
	require.Len(t, defs["StopCondition"].(map[string]any)["enum"], len(AllStopConditions))

	// Every object in the schema forbids unknown properties.
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "object" {
				require.Equal(t, false, x["additionalProperties"], "%s allows additional properties", path)
			}
			for k, c := range x {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s/%d", path, i), c)
			}
		}
	}
	walk("#", s)
}

// checkAgainst checks a decoded YAML value against the schema: object keys
// are known properties, required properties are present, types, enums and
// patterns hold. It covers the keywords Schema emits.
func checkAgainst(t *testing.T, root map[string]any, schema map[string]any, v any, path string) {
	t.Helper()
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
		require.True(t, ok, "%s: unresolved $ref %s", path, ref)
		schema = def
	}
	if enum, ok := schema["enum"].([]any); ok {
		require.Contains(t, enum, v, "%s: %v not in enum", path, v)
	}
	switch schema["type"] {
	case "object":
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s: want an object, got %T", path, v)
		props := schema["properties"].(map[string]any)
		for k, child := range m {
			ps, ok := props[k].(map[string]any)
			require.True(t, ok, "%s: key %q is not a property in the schema", path, k)
			checkAgainst(t, root, ps, child, path+"."+k)
		}
		required, _ := schema["required"].([]any) // a type of optional fields has none
		for _, r := range required {
			require.Contains(t, m, r, "%s: required property %v missing", path, r)
		}
	case "array":
		items, ok := v.([]any)
		require.True(t, ok, "%s: want an array, got %T", path, v)
		for i, it := range items {
			checkAgainst(t, root, schema["items"].(map[string]any), it, fmt.Sprintf("%s[%d]", path, i))
		}
	case "string":
		str, ok := v.(string)
		require.True(t, ok, "%s: want a string, got %T", path, v)
		if p, ok := schema["pattern"].(string); ok {
			require.Regexp(t, regexp.MustCompile(p), str, "%s", path)
		}
	case "integer":
		switch v.(type) {
		case int, int64, uint64:
		default:
			require.Failf(t, "type", "%s: want an integer, got %T", path, v)
		}
	}
}

func TestSchemaMatchesExamples(t *testing.T) {
	t.Parallel()
	root := loadSchema(t)
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	require.NoError(t, err)
	good, err := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	require.NoError(t, err)
	files = append(files, good...)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var doc any
			require.NoError(t, yaml.Unmarshal(data, &doc))
			checkAgainst(t, root, root, doc, filepath.Base(file))
		})
	}
}

func TestSchemaRejectsUnknownKey(t *testing.T) {
	t.Parallel()
	root := loadSchema(t)
	props := root["properties"].(map[string]any)
	var keys []string
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	require.Equal(t, []string{"applies_to", "broken_promise", "description", "experiment", "language", "name", "profile", "steps", "stop_when"}, keys)
}
