// Package config reads reactivator's settings from the environment, where flags leave them
// unset: the one list of environment variables the program reads (Vars), the reads themselves
// (Env), and the parsers of the settings several commands share (rate limits, delimiters). Flags
// win over the environment; secrets come only from the environment or from files.
package config

import (
	"fmt"
	"os"
	"strings"
)

// Env reads an environment variable; the program's is os.Getenv, a test's its own map.
type Env func(string) string

// First returns flag when it is set, else the variable name's value, trimmed.
func (e Env) First(flag, name string) string {
	if flag != "" {
		return flag
	}
	return strings.TrimSpace(e(name))
}

// Secret reads a secret from a file (fileFlag, else the variable fileEnv names) or, when no file
// is named, from the variable name. A file that is empty is an error.
func (e Env) Secret(fileFlag, fileEnv, name string) (string, error) {
	if path := e.First(fileFlag, fileEnv); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", fileEnv, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s: %s is empty", fileEnv, path)
		}
		return s, nil
	}
	return strings.TrimSpace(e(name)), nil
}
