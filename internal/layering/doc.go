// Package layering holds no code: its test checks the import rules of
// DESIGN.md over the whole module (which package may depend on which).
package layering
