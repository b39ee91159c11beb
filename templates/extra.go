package templates

import (
	"text/template/parse"
)

// extraKeys returns the keys of Data.Extra that the templates name as
// {{.Extra.key}}, so that validation can render them with sample values.
func extraKeys(l *localized) []string {
	seen := map[string]bool{}
	var keys []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case nil:
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.FieldNode:
			if len(n.Ident) >= 2 && n.Ident[0] == "Extra" && !seen[n.Ident[1]] {
				seen[n.Ident[1]] = true
				keys = append(keys, n.Ident[1])
			}
		}
	}
	for _, pt := range l.parts {
		for _, t := range pt.text.Templates() {
			if t.Tree != nil {
				walk(t.Root)
			}
		}
	}
	return keys
}
